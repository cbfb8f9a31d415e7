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
        var message = new byte[size];
        var started = Stopwatch.GetTimestamp();
        for (long i = 0; i < count && !cancellationToken.IsCancellationRequested; i++)
        {
            SequencePayload.Write(message, i);
            transport.Offer(message, topic, flush || i == count - 1);
        }

        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        await io.Error.WriteLineAsync($"published {count} messages in {seconds:F3} s; answering NAKs for {linger.TotalSeconds:F1} s").ConfigureAwait(false);
        try
        {
            await Task.Delay(linger, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        var counters = transport.PublisherCounters!;
        await WriteJsonAsync(io, json =>
        {
            json.WriteNumber("messages", counters.Messages);
            json.WriteNumber("bytes", counters.Messages * size);
            json.WriteNumber("seconds", Math.Round(seconds, 6));
            json.WriteNumber("msg_per_s", Math.Round(counters.Messages / Math.Max(seconds, 1e-9)));
            json.WriteNumber("retransmits", counters.Retransmits);
            json.WriteNumber("naks_served", counters.NaksReceived);
        }).ConfigureAwait(false);
        return 0;
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
            try
            {
                await tally.Done.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is TimeoutException or OperationCanceledException)
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
                json.WriteNumber("unrecovered", count - tally.InOrder);
                json.WriteBoolean("checksum_ok", tally.Corrupt == 0);
                json.WriteNumber("msg_per_s", Math.Round(tally.InOrder / Math.Max(tally.Seconds, 1e-9)));
                json.WriteNumber("naks_sent", naksSent);
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

    private static async Task WriteJsonAsync(CliIo io, Action<Utf8JsonWriter> write)
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
}
