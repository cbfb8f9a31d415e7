using System.Buffers.Binary;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;

namespace KcpKestrel.Cli.Serve;

/// <summary>
/// Reads and discards, and every 10 ms that the count changed writes the running total as a
/// little-endian uint64, as the Go peer's sink does: a bulk sender learns when all arrived. When Kestrel
/// asks it to close (serve is stopping), it reports the final total and ends its side.
/// </summary>
internal sealed class SinkApp : ConnectionHandler
{
    public static readonly TimeSpan ReportEvery = TimeSpan.FromMilliseconds(10);

    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        long total = 0;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed);
        var reporter = ReportAsync(connection, () => Volatile.Read(ref total), stop.Token);
        var input = connection.Transport.Input;
        using var closeRequest = CloseRequests.EndReadsOnCloseRequest(connection, input);
        var closeRequested = false;
        long reported;
        try
        {
            while (true)
            {
                var read = await input.ReadAsync(connection.ConnectionClosed).ConfigureAwait(false);
                Volatile.Write(ref total, total + read.Buffer.Length);
                input.AdvanceTo(read.Buffer.End);
                closeRequested = read.IsCanceled;
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
            reported = await reporter.ConfigureAwait(false);
        }

        if (closeRequested && reported != total)
        {
            // Closing on serve's side: the sender gets the last figure before end-of-stream.
            try
            {
                await WriteTotalAsync(connection.Transport.Output, total, connection.ConnectionClosed).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
            catch (InvalidOperationException)
            {
                // The transport completed its output under us while shutting down.
            }
        }
    }

    /// <returns>The last total written.</returns>
    private static async Task<long> ReportAsync(ConnectionContext connection, Func<long> total, CancellationToken stop)
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
                if (!await WriteTotalAsync(output, now, stop).ConfigureAwait(false))
                {
                    return last;
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

        return last;
    }

    /// <returns>False once the peer no longer reads.</returns>
    private static async Task<bool> WriteTotalAsync(PipeWriter output, long total, CancellationToken cancellationToken)
    {
        var span = output.GetSpan(8);
        BinaryPrimitives.WriteUInt64LittleEndian(span, (ulong)total);
        output.Advance(8);
        var flush = await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        return !flush.IsCompleted;
    }
}
