using System.IO.Pipelines;
using System.Runtime.CompilerServices;

namespace KcpKestrel.Transport.Kcp.Multiplexing;

/// <summary>
/// A stream connection's output as the app sees it. <see cref="Abort"/> may come from any thread while the app
/// writes: it releases a flush waiting for the peer's window and makes later flushes report completion, so the
/// app stops writing; the app's own Complete then sends FIN (smux has no reset).
/// </summary>
internal sealed class AbortableStreamWriter(PipeWriter inner) : PipeWriter
{
    private volatile bool _aborted;
    private int _completed;

    public void Abort()
    {
        _aborted = true;
        inner.CancelPendingFlush();
    }

    public override void Advance(int bytes) => inner.Advance(bytes);

    public override Memory<byte> GetMemory(int sizeHint = 0) => inner.GetMemory(sizeHint);

    public override Span<byte> GetSpan(int sizeHint = 0) => inner.GetSpan(sizeHint);

    public override void CancelPendingFlush() => inner.CancelPendingFlush();

    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
    {
        if (_aborted)
        {
            return new ValueTask<FlushResult>(new FlushResult(isCanceled: false, isCompleted: true));
        }

        var pending = inner.FlushAsync(cancellationToken);
        if (pending.IsCompletedSuccessfully)
        {
            return new ValueTask<FlushResult>(Adjust(pending.Result));
        }

        return Await(pending);
    }

    public override void Complete(Exception? exception = null)
    {
        // Once, and without the exception: a failed outbound pipe would fail the session's write loop,
        // and one app's error must end only its stream (FIN).
        if (Interlocked.Exchange(ref _completed, 1) == 0)
        {
            inner.Complete();
        }
    }

    private FlushResult Adjust(FlushResult result) =>
        _aborted && result.IsCanceled ? new FlushResult(isCanceled: false, isCompleted: true) : result;

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<FlushResult> Await(ValueTask<FlushResult> pending) => Adjust(await pending.ConfigureAwait(false));
}
