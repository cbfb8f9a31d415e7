using System.Diagnostics;

namespace KcpKestrel.Cli.Bench;

/// <summary>
/// <c>bench --workload bulk|echo --streams N</c>: the bytes split over N connections (with --smux, N streams of the
/// pooled sessions; through a tunnel, N tunnelled streams) running at once; the rate is the total over the wall time.
/// </summary>
internal static class ParallelStreams
{
    public static async Task<BenchResult> RunAsync(BenchDialer dialer, string workload, long bytes, int streams, BenchProgress progress, CancellationToken cancellationToken)
    {
        var connections = new List<BenchConnection>(streams);
        try
        {
            var dialStart = Stopwatch.GetTimestamp();
            for (var i = 0; i < streams; i++)
            {
                connections.Add(await dialer.ConnectAsync(cancellationToken).ConfigureAwait(false));
            }

            var connectMs = Stopwatch.GetElapsedTime(dialStart).TotalMilliseconds;
            var start = Stopwatch.GetTimestamp();
            var runs = new Task<BenchResult>[streams];
            for (var i = 0; i < streams; i++)
            {
                var connection = connections[i];
                var share = (bytes / streams) + (i < bytes % streams ? 1 : 0);
                runs[i] = workload == "bulk"
                    ? Task.Run(() => Workloads.BulkAsync(connection, share, progress, cancellationToken), cancellationToken)
                    : Task.Run(() => Workloads.EchoAsync(connection, share, progress, cancellationToken), cancellationToken);
            }

            var results = await Task.WhenAll(runs).ConfigureAwait(false);
            var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            var figures = SessionTotals(connections);
            var errors = 0;
            string? error = null;
            foreach (var result in results)
            {
                errors += result.Errors;
                error ??= result.Error;
            }

            return new BenchResult
            {
                Workload = workload,
                Bytes = bytes,
                Seconds = seconds,
                Ok = errors == 0,
                Errors = errors,
                Error = error,
                Figures = figures,
                ConnectMs = connectMs,
                Streams = streams,
            };
        }
        finally
        {
            foreach (var connection in connections)
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>Each KCP session's figures once, however many of the streams ran on it (smux); 0 on TCP.</summary>
    private static SessionFigures SessionTotals(List<BenchConnection> connections)
    {
        var seen = new HashSet<uint>();
        SessionFigures total = default;
        foreach (var connection in connections)
        {
            if (connection.Session is { } session && seen.Add(session.Conv))
            {
                total += connection.Statistics();
            }
        }

        return total;
    }
}
