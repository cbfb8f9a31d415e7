using System.Buffers;
using System.IO.Pipelines;

namespace KcpKestrel.Cli.Tunnel;

/// <summary>
/// Copies bytes both ways between two connections (a TCP socket and a smux stream) until either side ends.
/// As kcptun does, there is no half-close: when one direction reaches its end (the peer finished sending,
/// reset, or aborted), what was read is written and flushed, then both connections are closed. Buffering is
/// bounded by the two transports' pipes: a copy waits on the destination's flush (its backpressure) before
/// it reads again, and copies straight from the source's buffers into the destination's, so a read allocates
/// nothing.
/// </summary>
internal static class TunnelForwarder
{
    /// <summary>Forwards until either side ends, then completes all four pipe ends.</summary>
    /// <param name="inbound">The side that asked for the tunnel (the accepted connection).</param>
    /// <param name="outbound">The side the tunnel dialed.</param>
    /// <returns>Bytes copied inbound → outbound, and outbound → inbound.</returns>
    public static async Task<TunnelBytes> RunAsync(IDuplexPipe inbound, IDuplexPipe outbound)
    {
        ArgumentNullException.ThrowIfNull(inbound);
        ArgumentNullException.ThrowIfNull(outbound);
        var up = CopyAsync(inbound.Input, outbound.Output);
        var down = CopyAsync(outbound.Input, inbound.Output);
        var first = await Task.WhenAny(up, down).ConfigureAwait(false);

        // Stop the other direction where it waits (a read or a flush); its copy then returns.
        var (otherInput, otherOutput) = first == up ? (outbound.Input, inbound.Output) : (inbound.Input, outbound.Output);
        otherInput.CancelPendingRead();
        otherOutput.CancelPendingFlush();
        var upBytes = await up.ConfigureAwait(false);
        var downBytes = await down.ConfigureAwait(false);

        await inbound.Output.CompleteAsync().ConfigureAwait(false);
        await outbound.Output.CompleteAsync().ConfigureAwait(false);
        await inbound.Input.CompleteAsync().ConfigureAwait(false);
        await outbound.Input.CompleteAsync().ConfigureAwait(false);
        return new TunnelBytes(upBytes, downBytes);
    }

    /// <summary>Copies until the source ends or is cancelled, or the destination stops taking bytes; never throws.</summary>
    private static async Task<long> CopyAsync(PipeReader source, PipeWriter destination)
    {
        long copied = 0;
        try
        {
            while (true)
            {
                var result = await source.ReadAsync().ConfigureAwait(false);
                var buffer = result.Buffer;
                if (result.IsCanceled)
                {
                    source.AdvanceTo(buffer.Start);
                    return copied;
                }

                foreach (var segment in buffer)
                {
                    destination.Write(segment.Span);
                }

                // The length is taken before AdvanceTo: after it the buffer's segments go back to the pool and may be reused.
                var length = buffer.Length;
                copied += length;
                source.AdvanceTo(buffer.End);
                if (length > 0)
                {
                    var flush = await destination.FlushAsync().ConfigureAwait(false);
                    if (flush.IsCompleted || flush.IsCanceled)
                    {
                        return copied;
                    }
                }

                if (result.IsCompleted)
                {
                    return copied;
                }
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or InvalidOperationException or ObjectDisposedException)
        {
            // A reset, an abort (ConnectionAbortedException is an OperationCanceledException) or a pipe already
            // completed by its transport: this direction has ended, as an end of stream would.
            return copied;
        }
    }
}
