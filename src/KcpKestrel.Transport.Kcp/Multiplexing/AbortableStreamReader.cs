using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Connections;

namespace KcpKestrel.Transport.Kcp.Multiplexing;

/// <summary>
/// A stream connection's input as the app sees it. <see cref="Abort"/> may come from any thread while the app
/// reads, and a pipe must not be completed under its reader; so abort only wakes the read, which then fails here.
/// </summary>
internal sealed class AbortableStreamReader(PipeReader inner) : PipeReader
{
    private volatile ConnectionAbortedException? _aborted;
    private int _completed;

    public void Abort(ConnectionAbortedException reason)
    {
        _aborted ??= reason;
        inner.CancelPendingRead();
    }

    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfAborted();
        var pending = inner.ReadAsync(cancellationToken);
        if (pending.IsCompletedSuccessfully)
        {
            var result = pending.Result;
            if (result.IsCanceled)
            {
                ThrowIfAborted();
            }

            return new ValueTask<ReadResult>(result);
        }

        return Await(pending);
    }

    public override bool TryRead(out ReadResult result)
    {
        ThrowIfAborted();
        return inner.TryRead(out result);
    }

    public override void AdvanceTo(SequencePosition consumed) => inner.AdvanceTo(consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined) => inner.AdvanceTo(consumed, examined);

    public override void CancelPendingRead() => inner.CancelPendingRead();

    public override void Complete(Exception? exception = null)
    {
        // Once: the smux stream counts a completed input as the app leaving it.
        if (Interlocked.Exchange(ref _completed, 1) == 0)
        {
            inner.Complete(exception);
        }
    }

    private void ThrowIfAborted()
    {
        if (_aborted is { } reason)
        {
            throw reason;
        }
    }

    // Pooled: an idle stream's read waits here, and must not allocate each time.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<ReadResult> Await(ValueTask<ReadResult> pending)
    {
        var result = await pending.ConfigureAwait(false);
        if (result.IsCanceled)
        {
            ThrowIfAborted();
        }

        return result;
    }
}
