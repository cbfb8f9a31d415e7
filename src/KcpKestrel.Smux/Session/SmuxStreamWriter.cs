using System.IO.Pipelines;

namespace KcpKestrel.Smux.Session;

/// <summary>A stream's <see cref="SmuxStream.Output"/>: the outbound pipe's writer, telling the session's write loop when data or the end is there.</summary>
internal sealed class SmuxStreamWriter(SmuxStream stream, PipeWriter inner) : PipeWriter
{
    public override void Advance(int bytes) => inner.Advance(bytes);

    public override Memory<byte> GetMemory(int sizeHint = 0) => inner.GetMemory(sizeHint);

    public override Span<byte> GetSpan(int sizeHint = 0) => inner.GetSpan(sizeHint);

    public override void CancelPendingFlush() => inner.CancelPendingFlush();

    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
    {
        // The flush commits the bytes before it waits for backpressure, so the write loop can take them now.
        var flush = inner.FlushAsync(cancellationToken);
        stream.Schedule();
        return flush;
    }

    public override void Complete(Exception? exception = null)
    {
        inner.Complete(exception);
        stream.Schedule();
    }
}
