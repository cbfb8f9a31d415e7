using System.Diagnostics;

namespace KcpKestrel.Cli.Bench;

/// <summary>
/// The request workloads' loop (http, grpc): one request alone, whose latency (the dial included) is the time to
/// the first response, then the other count - 1 from a fixed number of callers; every request timed, the first
/// failure ends the run.
/// </summary>
internal static class RequestLoop
{
    /// <param name="workload">The JSON line's workload name.</param>
    /// <param name="count">Requests in all.</param>
    /// <param name="concurrency">Callers after the first request.</param>
    /// <param name="request">Sends one request (numbered from 0), checks its response and returns the bytes it received.</param>
    /// <param name="isFailure">Which exceptions count as a failed request (others propagate).</param>
    /// <param name="progress">Advanced by one per response.</param>
    /// <param name="cancellationToken">Ends the run (the exception propagates).</param>
    public static async Task<BenchResult> RunAsync(
        string workload,
        int count,
        int concurrency,
        Func<int, CancellationToken, Task<int>> request,
        Func<Exception, bool> isFailure,
        BenchProgress progress,
        CancellationToken cancellationToken)
    {
        var rtts = new RttRecorder(count);
        long bytes = 0;
        var errors = 0;
        string? firstError = null;
        var start = Stopwatch.GetTimestamp();
        await OneAsync(0).ConfigureAwait(false);
        var firstResponseMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        var next = 0;
        var callers = new Task[Math.Min(concurrency, Math.Max(1, count - 1))];
        for (var c = 0; c < callers.Length; c++)
        {
            callers[c] = Task.Run(CallerAsync, cancellationToken);
        }

        await Task.WhenAll(callers).ConfigureAwait(false);
        var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        var rtt = rtts.Summary();
        return new BenchResult
        {
            Workload = workload,
            Bytes = bytes,
            Seconds = seconds,
            RttP50Us = rtt.P50,
            RttP99Us = rtt.P99,
            RttP999Us = rtt.P999,
            Ok = errors == 0,
            Errors = errors,
            Error = firstError,
            Requests = rtts.Count,
            FirstResponseMs = firstResponseMs,
        };

        async Task CallerAsync()
        {
            int index;
            while ((index = Interlocked.Increment(ref next)) < count && Volatile.Read(ref errors) == 0)
            {
                await OneAsync(index).ConfigureAwait(false);
            }
        }

        async Task OneAsync(int index)
        {
            var began = Stopwatch.GetTimestamp();
            try
            {
                var received = await request(index, cancellationToken).ConfigureAwait(false);
                rtts.Add(began);
                Interlocked.Add(ref bytes, received);
                progress.Add(1);
            }
            catch (Exception e) when (isFailure(e))
            {
                Interlocked.Increment(ref errors);
                Interlocked.CompareExchange(ref firstError, e.Message, null);
            }
        }
    }
}
