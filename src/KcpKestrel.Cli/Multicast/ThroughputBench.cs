using System.Globalization;
using System.Text.Json;
using KcpKestrel.Multicast;

namespace KcpKestrel.Cli.Multicast;

/// <summary>
/// <c>multicast bench --workload throughput</c>: this process publishes, <c>--subscribers</c> processes of
/// <c>multicast sub</c> receive; the publisher keeps answering NAKs until the last subscriber has everything.
/// </summary>
internal static class ThroughputBench
{
    private static readonly TimeSpan JoinLimit = TimeSpan.FromSeconds(30);

    public static async Task<int> RunAsync(CliIo io, MulticastBenchSettings settings, CancellationToken cancellationToken)
    {
        var subscribers = new List<SubscriberProcess>(settings.Subscribers);
        try
        {
            var options = settings.NewOptions();
            for (var i = 0; i < settings.Subscribers; i++)
            {
                var arguments = SubscriberArguments(settings, options.NodeId, i);
                await io.Error.WriteLineAsync($"starting: multicast sub {string.Join(' ', arguments)}").ConfigureAwait(false);
                subscribers.Add(SubscriberProcess.Start(arguments));
            }

            // The subscribers must have joined before the first message, or they start mid-stream.
            await Task.WhenAll(subscribers.Select(s => s.Joined)).WaitAsync(JoinLimit, cancellationToken).ConfigureAwait(false);
            using var transport = new MulticastTransport(options);
            var cpuAtStart = Environment.CpuUsage.TotalTime;
            var seconds = await MulticastRuns.PublishWithProgressAsync(
                io, transport, settings.Topic, settings.Count, settings.Size, flush: false, cancellationToken).ConfigureAwait(false);
            var results = await ProgressLine.RunAsync(
                io,
                "waiting for subscribers",
                () => MulticastRuns.PublisherSample(transport),
                Task.WhenAll(subscribers.Select(s => s.ResultAsync(settings.Limit, cancellationToken)))).ConfigureAwait(false);
            var cpu = Environment.CpuUsage.TotalTime - cpuAtStart;
            var ok = Array.TrueForAll(results, r => r is { } json && Succeeded(json));
            await MulticastRuns.WriteJsonAsync(io, json =>
            {
                json.WriteString("workload", "throughput");
                json.WriteNumber("subscribers", settings.Subscribers);
                json.WriteNumber("size", settings.Size);
                json.WriteNumber("drop", settings.Drop);
                MulticastRuns.WritePublisher(json, transport, settings.Size, seconds, cpu);
                WriteSubscribers(json, results, settings.Count);
                json.WriteBoolean("ok", ok);
            }).ConfigureAwait(false);
            for (var i = 0; i < results.Length; i++)
            {
                if (results[i] is null)
                {
                    await io.Error.WriteLineAsync($"subscriber {i} gave no result: {subscribers[i].Errors()}").ConfigureAwait(false);
                }
            }

            return ok ? 0 : 1;
        }
        finally
        {
            foreach (var subscriber in subscribers)
            {
                subscriber.Dispose();
            }
        }
    }

    private static List<string> SubscriberArguments(MulticastBenchSettings settings, ushort publisherNode, int index)
    {
        var invariant = CultureInfo.InvariantCulture;
        var node = (publisherNode + 1 + index) % ushort.MaxValue;
        List<string> arguments =
        [
            .. settings.SubscriberArguments,
            "--node", Math.Max(1, node).ToString(invariant),
            "--timeout", settings.Limit.TotalSeconds.ToString(invariant),
        ];
        if (settings.Drop > 0)
        {
            arguments.AddRange(["--drop", settings.Drop.ToString(invariant), "--seed", (settings.Seed + index).ToString(invariant)]);
        }

        return arguments;
    }

    private static bool Succeeded(JsonElement json) =>
        json.GetProperty("lost").GetInt64() == 0
        && json.GetProperty("duplicates").GetInt64() == 0
        && json.GetProperty("reordered").GetInt64() == 0
        && json.GetProperty("checksum_ok").GetBoolean();

    /// <summary>
    /// The sums, the slowest subscriber's rate, the mean CPU, and every subscriber's own line; a subscriber that
    /// gave no result counts as having lost everything.
    /// </summary>
    private static void WriteSubscribers(Utf8JsonWriter json, JsonElement?[] results, long count)
    {
        long Sum(string name) => results.Sum(r => r is { } e ? e.GetProperty(name).GetInt64() : name == "lost" ? count : 0);
        var rates = results.Select(r => r is { } e ? e.GetProperty("msg_per_s").GetDouble() : 0).ToArray();
        var cpus = results.Select(r => r is { } e ? e.GetProperty("cpu_s").GetDouble() : 0).ToArray();
        json.WriteNumber("sub_msg_per_s_min", rates.Length == 0 ? 0 : rates.Min());
        json.WriteNumber("sub_cpu_s_mean", rates.Length == 0 ? 0 : Math.Round(cpus.Average(), 3));
        json.WriteNumber("lost", Sum("lost"));
        json.WriteNumber("duplicates", Sum("duplicates"));
        json.WriteNumber("reordered", Sum("reordered"));
        json.WriteNumber("naks_sent", Sum("naks_sent"));
        json.WriteStartArray("subs");
        foreach (var result in results)
        {
            if (result is { } element)
            {
                element.WriteTo(json);
            }
            else
            {
                json.WriteNullValue();
            }
        }

        json.WriteEndArray();
    }
}
