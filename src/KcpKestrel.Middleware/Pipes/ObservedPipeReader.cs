using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;

namespace KcpKestrel.Middleware.Pipes;

/// <summary>
/// A pass-through <see cref="PipeReader"/> that reports newly arrived bytes to an observer and waits
/// before a read when the observer asks (throttling). Consumed/examined positions go through untouched.
/// </summary>
internal sealed class ObservedPipeReader(PipeReader inner, IPipeObserver observer, TimeProvider timeProvider) : PipeReader
{
    private ReadOnlySequence<byte> _last;

    // Bytes of _last the app left unconsumed: they are not "new" on the next read.
    private long _unconsumed;
    private CancellationTokenSource? _delayCts;

    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        var delay = observer.GetReadDelay();
        if (delay > TimeSpan.Zero)
        {
            return DelayThenReadAsync(delay, cancellationToken);
        }

        var pending = inner.ReadAsync(cancellationToken);
        return pending.IsCompletedSuccessfully ? new ValueTask<ReadResult>(Observe(pending.Result)) : AwaitReadAsync(pending);
    }

    public override bool TryRead(out ReadResult result)
    {
        if (observer.GetReadDelay() > TimeSpan.Zero || !inner.TryRead(out result))
        {
            result = default;
            return false;
        }

        result = Observe(result);
        return true;
    }

    public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        _unconsumed = _last.Slice(consumed).Length;
        _last = default;
        inner.AdvanceTo(consumed, examined);
    }

    public override void CancelPendingRead()
    {
        // A throttled read waiting out its delay goes on to the inner read, which reports the cancellation.
        try
        {
            Volatile.Read(ref _delayCts)?.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Completed meanwhile: nothing is waiting.
        }

        inner.CancelPendingRead();
    }

    public override void Complete(Exception? exception = null)
    {
        _delayCts?.Dispose();
        inner.Complete(exception);
    }

    public override ValueTask CompleteAsync(Exception? exception = null)
    {
        _delayCts?.Dispose();
        return inner.CompleteAsync(exception);
    }

    private ReadResult Observe(ReadResult result)
    {
        var buffer = result.Buffer;
        _last = buffer;
        if (buffer.Length > _unconsumed)
        {
            observer.OnReceived(buffer.Slice(_unconsumed));
        }

        return result;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<ReadResult> AwaitReadAsync(ValueTask<ReadResult> pending) => Observe(await pending.ConfigureAwait(false));

    private async ValueTask<ReadResult> DelayThenReadAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        var cts = _delayCts;
        if (cts is null || !cts.TryReset())
        {
            cts?.Dispose();
            cts = new CancellationTokenSource();
            Volatile.Write(ref _delayCts, cts);
        }

        using var linked = cancellationToken.CanBeCanceled ? CancellationTokenSource.CreateLinkedTokenSource(cts.Token, cancellationToken) : null;
        try
        {
            await Task.Delay(delay, timeProvider, linked?.Token ?? cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // CancelPendingRead: the inner read below returns the cancelled result.
        }

        return Observe(await inner.ReadAsync(cancellationToken).ConfigureAwait(false));
    }
}
