using System.Buffers.Binary;
using Microsoft.AspNetCore.Connections;

namespace KcpKestrel.Cli.Serve;

/// <summary>
/// Reads and discards, and every 10 ms that the count changed writes the running total as a
/// little-endian uint64, as the Go peer's sink does: a bulk sender learns when all arrived.
/// </summary>
internal sealed class SinkApp : ConnectionHandler
{
    public static readonly TimeSpan ReportEvery = TimeSpan.FromMilliseconds(10);

    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        long total = 0;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed);
        var reporter = ReportAsync(connection, () => Volatile.Read(ref total), stop.Token);
        try
        {
            var input = connection.Transport.Input;
            while (true)
            {
                var read = await input.ReadAsync(connection.ConnectionClosed).ConfigureAwait(false);
                Volatile.Write(ref total, total + read.Buffer.Length);
                input.AdvanceTo(read.Buffer.End);
                if (read.IsCompleted || read.IsCanceled)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (IOException)
        {
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await reporter.ConfigureAwait(false);
        }
    }

    private static async Task ReportAsync(ConnectionContext connection, Func<long> total, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(ReportEvery);
        long last = 0;
        var output = connection.Transport.Output;
        try
        {
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                var now = total();
                if (now == last)
                {
                    continue;
                }

                last = now;
                var span = output.GetSpan(8);
                BinaryPrimitives.WriteUInt64LittleEndian(span, (ulong)now);
                output.Advance(8);
                var flush = await output.FlushAsync(stop).ConfigureAwait(false);
                if (flush.IsCompleted)
                {
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (IOException)
        {
        }
        catch (InvalidOperationException)
        {
            // The transport completed its output under us while shutting down.
        }
    }
}
