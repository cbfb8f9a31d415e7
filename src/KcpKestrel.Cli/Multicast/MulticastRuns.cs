using System.Diagnostics;
using System.Text.Json;
using KcpKestrel.Multicast;

namespace KcpKestrel.Cli.Multicast;

/// <summary>What <c>multicast pub</c> and <c>multicast sub</c> do once their flags are parsed.</summary>
internal static class MulticastRuns
{
    /// <summary>
    /// Publishes <paramref name="count"/> messages, then keeps answering NAKs for <paramref name="linger"/>
    /// (heartbeats let subscribers find a lost tail), then prints the JSON line.
    /// </summary>
    public static async Task<int> PublishAsync(
        CliIo io, MulticastOptions options, byte topic, long count, int size, bool flush, TimeSpan linger, CancellationToken cancellationToken)
    {
        using var transport = new MulticastTransport(options);
        var cpuAtStart = Environment.CpuUsage.TotalTime;
        var seconds = await PublishWithProgressAsync(io, transport, topic, count, size, flush, cancellationToken).ConfigureAwait(false);
        await io.Error.WriteLineAsync($"published {count} messages in {seconds:F3} s; answering NAKs for {linger.TotalSeconds:F1} s").ConfigureAwait(false);
        try
        {
            await Task.Delay(linger, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        var cpu = Environment.CpuUsage.TotalTime - cpuAtStart;
        await WriteJsonAsync(io, json => WritePublisher(json, transport, size, seconds, cpu)).ConfigureAwait(false);
        return 0;
    }

    /// <summary>
    /// Offers <paramref name="count"/> messages of <see cref="SequencePayload"/> on a thread of its own (the
    /// progress line samples the counters meanwhile); returns the seconds the offers took.
    /// </summary>
    public static Task<double> PublishWithProgressAsync(
        CliIo io, MulticastTransport transport, byte topic, long count, int size, bool flush, CancellationToken cancellationToken)
    {
        var work = Task.Factory.StartNew(
            () =>
            {
                var message = new byte[size];
                var started = Stopwatch.GetTimestamp();
                for (long i = 0; i < count && !cancellationToken.IsCancellationRequested; i++)
                {
                    SequencePayload.Write(message, i);
                    transport.Offer(message, topic, flush || i == count - 1);
                }

                return Stopwatch.GetElapsedTime(started).TotalSeconds;
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);
        return ProgressLine.RunAsync(io, "pub", () => PublisherSample(transport), work);
    }

    /// <summary>Messages and NAKs received so far, for the progress line.</summary>
    public static (long Messages, long Naks) PublisherSample(MulticastTransport transport) =>
        transport.PublisherCounters is { } counters ? (counters.Messages, counters.NaksReceived) : (0, 0);

    /// <summary>The publisher's JSON fields; <paramref name="cpu"/> is the whole process's user + system time.</summary>
    public static void WritePublisher(Utf8JsonWriter json, MulticastTransport transport, int size, double seconds, TimeSpan cpu)
    {
        var counters = transport.PublisherCounters!;
        json.WriteNumber("messages", counters.Messages);
        json.WriteNumber("bytes", counters.Messages * size);
        json.WriteNumber("seconds", Math.Round(seconds, 6));
        json.WriteNumber("msg_per_s", Math.Round(counters.Messages / Math.Max(seconds, 1e-9)));
        json.WriteNumber("retransmits", counters.Retransmits);
        json.WriteNumber("naks_served", counters.NaksReceived);
        json.WriteNumber("naks_gone", counters.NaksGone);
        json.WriteNumber("repair_waits", counters.RepairWaits);
        json.WriteNumber("rate_limit_waits", counters.RateLimited);
        json.WriteNumber("congestion_waits", counters.CongestionWaits);
        json.WriteNumber("congestion_cuts", transport.CongestionCuts);
        json.WriteNumber("paced_pps", Math.Round(transport.PacedRate));
        json.WriteNumber("cpu_s", Math.Round(cpu.TotalSeconds, 3));
    }

    /// <summary>
    /// Joins, prints <c>joined GROUP</c>, counts messages until the last of <paramref name="count"/>
    /// arrived or <paramref name="timeout"/> ran out, then prints the JSON line. Exit 0 when every
    /// message arrived once, in order, with its content.
    /// </summary>
    public static async Task<int> SubscribeAsync(
        CliIo io, MulticastOptions options, byte topic, long count, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var tally = new SubscriberTally(count);
        using (var transport = new MulticastTransport(options, tally, topic))
        {
            await io.Out.WriteLineAsync($"joined {transport.Group}").ConfigureAwait(false);
            await io.Out.FlushAsync(cancellationToken).ConfigureAwait(false);
            var finished = await ProgressLine.RunAsync(
                io, "sub", () => (tally.InOrder, transport.SubscriberCounters!.NaksSent), WaitAsync(tally, timeout, cancellationToken)).ConfigureAwait(false);
            var cpu = Environment.CpuUsage.TotalTime - tally.CpuAtFirst;
            if (!finished)
            {
                await io.Error.WriteLineAsync($"stopped before the last message: {tally.InOrder} of {count} in order").ConfigureAwait(false);
            }

            var ok = tally.InOrder == count && tally.Duplicates == 0 && tally.Corrupt == 0;
            var naksSent = transport.SubscriberCounters!.NaksSent;
            var codec = transport.CodecCounters;
            await WriteJsonAsync(io, json =>
            {
                json.WriteNumber("received", tally.Received);
                json.WriteNumber("in_order", tally.InOrder);
                json.WriteNumber("duplicates", tally.Duplicates);
                json.WriteNumber("reordered", tally.Reordered);
                json.WriteNumber("lost", tally.Lost);
                json.WriteNumber("unrecovered", count - tally.InOrder);
                json.WriteBoolean("checksum_ok", tally.Corrupt == 0);
                json.WriteNumber("seconds", Math.Round(tally.Seconds, 6));
                json.WriteNumber("msg_per_s", Math.Round(tally.InOrder / Math.Max(tally.Seconds, 1e-9)));
                json.WriteNumber("naks_sent", naksSent);
                json.WriteNumber("cpu_s", Math.Round(tally.Received == 0 ? 0 : cpu.TotalSeconds, 3));
                if (codec is not null)
                {
                    json.WriteNumber("forged_dropped", codec.ForgedDropped);
                    json.WriteNumber("replays_dropped", codec.ReplaysDropped);
                    json.WriteNumber("fec_recovered", codec.FecRecovered);
                }
            }).ConfigureAwait(false);
            return ok ? 0 : 1;
        }
    }

    /// <summary>Writes one JSON object as a line on standard output.</summary>
    public static async Task WriteJsonAsync(CliIo io, Action<Utf8JsonWriter> write)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            json.WriteStartObject();
            write(json);
            json.WriteEndObject();
        }

        await io.Out.WriteLineAsync(System.Text.Encoding.UTF8.GetString(stream.ToArray())).ConfigureAwait(false);
        await io.Out.FlushAsync(CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>True when the last message arrived, false when the timeout or a cancellation came first.</summary>
    private static async Task<bool> WaitAsync(SubscriberTally tally, TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            await tally.Done.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            return false;
        }
    }
}
