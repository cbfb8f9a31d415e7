using System.Runtime.CompilerServices;
using System.IO.Pipelines;

namespace KcpKestrel.Middleware.Pipes;

/// <summary>
/// A pass-through <see cref="PipeWriter"/> that reports written bytes to an observer and delays a
/// flush when the observer asks (throttling: bytes leave at the flush, after their delay).
/// </summary>
internal sealed class ObservedPipeWriter(PipeWriter inner, IPipeObserver observer, TimeProvider timeProvider) : PipeWriter
{
    private readonly ThrottleDelay _delay = new(timeProvider);
    private Memory<byte> _lastMemory;
    private long _pending;

    public override bool CanGetUnflushedBytes => inner.CanGetUnflushedBytes;

    public override long UnflushedBytes => inner.UnflushedBytes;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override Memory<byte> GetMemory(int sizeHint = 0) => _lastMemory = inner.GetMemory(sizeHint);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override Span<byte> GetSpan(int sizeHint = 0) => (_lastMemory = inner.GetMemory(sizeHint)).Span;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Advance(int bytes)
    {
        // Callers may Advance more than once per GetMemory (Kestrel writes headers then body into one
        // buffer), so the remembered memory slides forward; bytes beyond what we saw are counted, not shown.
        if (bytes > 0)
        {
            var seen = Math.Min(bytes, _lastMemory.Length);
            observer.OnSent(bytes, _lastMemory.Span[..seen]);
            _lastMemory = _lastMemory[seen..];
            _pending += bytes;
        }

        inner.Advance(bytes);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
    {
        var pending = _pending;
        _pending = 0;
        var delay = observer.GetFlushDelay(pending);
        return delay > TimeSpan.Zero ? DelayThenFlushAsync(delay, cancellationToken) : inner.FlushAsync(cancellationToken);
    }

    public override void CancelPendingFlush()
    {
        _delay.Interrupt();

        inner.CancelPendingFlush();
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

    private async ValueTask<FlushResult> DelayThenFlushAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        await _delay.WaitAsync(delay, cancellationToken).ConfigureAwait(false);
        return await inner.FlushAsync(cancellationToken).ConfigureAwait(false);
    }
}
