using System.Buffers.Binary;
using System.Diagnostics;
using System.Security.Cryptography;

namespace KcpKestrel.Cli.Bench;

/// <summary>The bench workloads, the same code over KCP and TCP.</summary>
internal static class Workloads
{
    private const int Chunk = 32 * 1024;
    private const int PayloadSize = 1 << 20;

    /// <summary>Seeded pseudo-random bytes sent in a cycle (a multiple of <see cref="Chunk"/> long).</summary>
    private static readonly byte[] Payload = CreatePayload();

    private static byte[] CreatePayload()
    {
        var payload = new byte[PayloadSize];
        new Random(1).NextBytes(payload);
        return payload;
    }

    /// <summary>Sends <paramref name="bytes"/> to a sink; done when its reported total reaches them.</summary>
    public static async Task<BenchResult> BulkAsync(BenchConnection connection, long bytes, BenchProgress progress, CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        var stream = connection.Stream;
        var acks = Task.Run(() => ReadSinkTotalsAsync(stream, bytes, progress, cancellationToken), cancellationToken);
        await WritePayloadAsync(stream, bytes, null, cancellationToken).ConfigureAwait(false);
        var acked = await acks.ConfigureAwait(false);
        var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        var figures = connection.Statistics();
        var ok = acked == bytes;
        return new BenchResult
        {
            Workload = "bulk",
            Bytes = bytes,
            Seconds = seconds,
            Ok = ok,
            Errors = ok ? 0 : 1,
            Error = ok ? null : $"the sink reported {acked} bytes, expected {bytes}",
            Figures = figures,
        };
    }

    private static async Task<long> ReadSinkTotalsAsync(Stream stream, long bytes, BenchProgress progress, CancellationToken cancellationToken)
    {
        var buffer = new byte[4096];
        var pending = new byte[8];
        var pendingCount = 0;
        long acked = 0;
        while (acked < bytes)
        {
            var n = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                throw new IOException($"the sink closed the connection after reporting {acked} of {bytes} bytes");
            }

            var before = acked;
            for (var i = 0; i < n; i++)
            {
                pending[pendingCount++] = buffer[i];
                if (pendingCount == 8)
                {
                    acked = (long)BinaryPrimitives.ReadUInt64LittleEndian(pending);
                    pendingCount = 0;
                }
            }

            // Added, not set: with --streams several connections report into one progress line.
            progress.Add(acked - before);
        }

        return acked;
    }

    private static async Task WritePayloadAsync(Stream stream, long bytes, IncrementalHash? hash, CancellationToken cancellationToken)
    {
        long written = 0;
        while (written < bytes)
        {
            var offset = (int)(written % PayloadSize);
            var n = (int)Math.Min(Chunk, bytes - written);
            var slice = Payload.AsMemory(offset, n);
            hash?.AppendData(slice.Span);
            await stream.WriteAsync(slice, cancellationToken).ConfigureAwait(false);
            written += n;
        }

        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sends <paramref name="bytes"/> to an echo server and checks the SHA-256 of what comes back.</summary>
    public static async Task<BenchResult> EchoAsync(BenchConnection connection, long bytes, BenchProgress progress, CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        var stream = connection.Stream;
        using var sent = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var received = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var reader = Task.Run(
            async () =>
            {
                var buffer = new byte[64 * 1024];
                long total = 0;
                while (total < bytes)
                {
                    var n = await stream.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, bytes - total)), cancellationToken).ConfigureAwait(false);
                    if (n == 0)
                    {
                        break;
                    }

                    received.AppendData(buffer, 0, n);
                    total += n;
                    progress.Add(n);
                }

                return total;
            },
            cancellationToken);
        await WritePayloadAsync(stream, bytes, sent, cancellationToken).ConfigureAwait(false);
        var back = await reader.ConfigureAwait(false);
        var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        var figures = connection.Statistics();
        string? error = null;
        if (back != bytes)
        {
            error = $"the echo server sent back {back} of {bytes} bytes";
        }
        else if (!sent.GetHashAndReset().AsSpan().SequenceEqual(received.GetHashAndReset()))
        {
            error = "sha256 mismatch";
        }

        return new BenchResult
        {
            Workload = "echo",
            Bytes = bytes,
            Seconds = seconds,
            Ok = error is null,
            Errors = error is null ? 0 : 1,
            Error = error,
            Figures = figures,
        };
    }

    /// <summary>One message of <paramref name="size"/> bytes out and back, <paramref name="count"/> times, each timed.</summary>
    public static async Task<BenchResult> PingPongAsync(BenchConnection connection, int size, int count, BenchProgress progress, CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        var rtts = new RttRecorder(count);
        var message = new byte[size];
        var reply = new byte[size];
        string? error = null;
        for (var i = 0; i < count && error is null; i++)
        {
            error = await RoundTripAsync(connection.Stream, message, reply, (uint)i, rtts, cancellationToken).ConfigureAwait(false);
            progress.Set(i + 1);
        }

        var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        var rtt = rtts.Summary();
        var figures = connection.Statistics();
        return new BenchResult
        {
            Workload = "pingpong",
            Bytes = (long)rtts.Count * size * 2,
            Seconds = seconds,
            RttP50Us = rtt.P50,
            RttP99Us = rtt.P99,
            RttP999Us = rtt.P999,
            Ok = error is null,
            Errors = error is null ? 0 : 1,
            Error = error,
            Figures = figures,
        };
    }

    private static async Task<string?> RoundTripAsync(Stream stream, byte[] message, byte[] reply, uint sequence, RttRecorder rtts, CancellationToken cancellationToken)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(message, sequence);
        var t = Stopwatch.GetTimestamp();
        await stream.WriteAsync(message, cancellationToken).ConfigureAwait(false);
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await stream.ReadExactlyAsync(reply, cancellationToken).ConfigureAwait(false);
        }
        catch (EndOfStreamException)
        {
            return $"the server closed the connection at round trip {sequence}";
        }

        rtts.Add(t);
        return BinaryPrimitives.ReadUInt32LittleEndian(reply) == sequence ? null : $"reply {sequence} out of order";
    }

    /// <summary>
    /// <paramref name="sessions"/> concurrent sessions, each a ping-pong of <see cref="SessionPlan.Size"/>-byte messages
    /// at <paramref name="rate"/> per second for <see cref="SessionPlan.Duration"/> (see <see cref="RedialingSession"/>).
    /// Dials are paced (a bounded number in flight) so a server's new-session limit is not the thing measured.
    /// </summary>
    public static async Task<BenchResult> SessionsAsync(BenchDialer dialer, int sessions, double rate, SessionPlan plan, BenchProgress progress, CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        var tally = new SessionTally(Math.Max(1024, (int)Math.Min(4_000_000, sessions * rate * plan.Duration.TotalSeconds)));
        using var dialGate = new SemaphoreSlim(32);
        var tasks = new Task[sessions];
        for (var s = 0; s < sessions; s++)
        {
            var session = new RedialingSession(dialer, plan, dialGate, progress, tally);
            var phase = plan.Interval * Random.Shared.NextDouble();
            tasks[s] = Task.Run(() => session.RunAsync(phase, cancellationToken), cancellationToken);
        }

        await Task.WhenAll(tasks).ConfigureAwait(false);
        var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        var rtt = tally.Rtts.Summary();
        return new BenchResult
        {
            Workload = "sessions",
            Transport = dialer.Transport,
            Sessions = sessions,
            Bytes = (long)rtt.Count * plan.Size * 2,
            Seconds = seconds,
            RttP50Us = rtt.P50,
            RttP99Us = rtt.P99,
            RttP999Us = rtt.P999,
            Ok = tally.Errors == 0 && rtt.Count > 0,
            Errors = tally.Errors,
            Error = tally.FirstError,
            Figures = tally.Figures(),
            Endings = tally.Endings(dialer.DialAttempts),
        };
    }
}
