using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Threading.Tasks.Sources;

namespace KcpKestrel.Middleware.Pipes;

/// <summary>
/// A pass-through <see cref="PipeReader"/> that reports newly arrived bytes to an observer and waits
/// before a read when the observer asks (throttling). Consumed/examined positions go through untouched.
/// A read that has to wait completes through this reader itself (a reusable value-task source: a pipe
/// has one read outstanding at a time), so a keep-alive connection allocates nothing per request.
/// The per-read and per-write members here, in <see cref="ObservedPipeWriter"/> and in <see cref="PipeObserverSet"/> are
/// compiled optimized at once (AggressiveOptimization): on a saturated core, perf showed them still running their
/// quick tier-0 code during a keep-alive benchmark, which cost the whole middleware set ~6% of its requests per second.
/// </summary>
internal sealed class ObservedPipeReader : PipeReader, IValueTaskSource<ReadResult>
{
    private readonly PipeReader inner;
    private readonly IPipeObserver observer;
    private readonly ThrottleDelay _delay;
    private readonly Action _onInnerReadCompleted;
    private ManualResetValueTaskSourceCore<ReadResult> _source;
    private ConfiguredValueTaskAwaitable<ReadResult>.ConfiguredValueTaskAwaiter _pending;
    private ReadOnlySequence<byte> _last;

    // Bytes of _last the app left unconsumed: they are not "new" on the next read.
    private long _unconsumed;

    public ObservedPipeReader(PipeReader inner, IPipeObserver observer, TimeProvider timeProvider)
    {
        this.inner = inner;
        this.observer = observer;
        _delay = new ThrottleDelay(timeProvider);
        _onInnerReadCompleted = OnInnerReadCompleted;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        var delay = observer.GetReadDelay();
        if (delay > TimeSpan.Zero)
        {
            return DelayThenReadAsync(delay, cancellationToken);
        }

        var pending = inner.ReadAsync(cancellationToken);
        if (pending.IsCompletedSuccessfully)
        {
            return new ValueTask<ReadResult>(Observe(pending.Result));
        }

        _source.Reset();
        _pending = pending.ConfigureAwait(false).GetAwaiter();
        _pending.UnsafeOnCompleted(_onInnerReadCompleted);
        return new ValueTask<ReadResult>(this, _source.Version);
    }

    ReadResult IValueTaskSource<ReadResult>.GetResult(short token) => _source.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<ReadResult>.GetStatus(short token) => _source.GetStatus(token);

    void IValueTaskSource<ReadResult>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _source.OnCompleted(continuation, state, token, flags);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        _unconsumed = _last.Slice(consumed).Length;
        _last = default;
        inner.AdvanceTo(consumed, examined);
    }

    public override void CancelPendingRead()
    {
        // A throttled read waiting out its delay goes on to the inner read, which reports the cancellation.
        _delay.Interrupt();

        inner.CancelPendingRead();
    }

    public override void Complete(Exception? exception = null)
    {
        _delay.Release();
        inner.Complete(exception);
    }

    public override ValueTask CompleteAsync(Exception? exception = null)
    {
        _delay.Release();
        return inner.CompleteAsync(exception);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void OnInnerReadCompleted()
    {
        var pending = _pending;
        _pending = default;
        ReadResult result;
        try
        {
            result = Observe(pending.GetResult());
        }
        catch (Exception ex)
        {
            _source.SetException(ex);
            return;
        }

        _source.SetResult(result);
    }

    private async ValueTask<ReadResult> DelayThenReadAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        await _delay.WaitAsync(delay, cancellationToken).ConfigureAwait(false);
        return Observe(await inner.ReadAsync(cancellationToken).ConfigureAwait(false));
    }
}
