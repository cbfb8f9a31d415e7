using System.Buffers;
using System.IO.Pipelines;

namespace KcpKestrel.Protocols;

/// <summary>
/// One direction of a wrapping duplex pipe whose transform takes whatever a read holds (QPP both ways, snappy's
/// encoder): read, transform into the target, flush after every read that had bytes, until either side ends; then both
/// sides complete with the error, if any, so neither waits forever.
/// </summary>
internal static class TransformPump
{
    /// <param name="source">Read until completed or cancelled.</param>
    /// <param name="target">Written and flushed; a completed flush (its reader gone) ends the pump.</param>
    /// <param name="state">Passed to <paramref name="transform"/>, so it can be a static lambda (no closure per pipe).</param>
    /// <param name="transform">Writes the transformed bytes of one read into the target; it may throw to end the pump.</param>
    public static async Task RunAsync<TState>(PipeReader source, PipeWriter target, TState state, Action<TState, ReadOnlySequence<byte>, PipeWriter> transform)
    {
        Exception? error = null;
        try
        {
            while (true)
            {
                var result = await source.ReadAsync().ConfigureAwait(false);
                if (result.IsCanceled)
                {
                    break;
                }

                var buffer = result.Buffer;

                // Read before AdvanceTo: after it the segments go back to their pool, and a multi-segment sequence's
                // length (which IsEmpty reads) comes out wrong; the bytes would then never be flushed.
                var any = !buffer.IsEmpty;
                if (any)
                {
                    transform(state, buffer, target);
                }

                source.AdvanceTo(buffer.End);
                if (any && (await target.FlushAsync().ConfigureAwait(false)).IsCompleted)
                {
                    break;
                }

                if (result.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (Exception e)
        {
            // Whatever either side threw, both must complete so neither waits forever.
            error = e;
        }

        await source.CompleteAsync(error).ConfigureAwait(false);
        await target.CompleteAsync(error).ConfigureAwait(false);
    }
}
