namespace KcpKestrel.Middleware.Pipes;

/// <summary>
/// The wait a throttled read or flush serves before it goes on to the inner pipe, cut short by
/// CancelPendingRead/CancelPendingFlush (<see cref="Interrupt"/>). One per pipe direction: a pipe has one read
/// (or flush) outstanding at a time, so its token source is reset and reused between waits.
/// </summary>
internal sealed class ThrottleDelay(TimeProvider timeProvider)
{
    private CancellationTokenSource? _cts;

    /// <summary>Waits <paramref name="delay"/>; returns early, without throwing, when interrupted. Throws when <paramref name="cancellationToken"/> fires.</summary>
    public async Task WaitAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        var cts = _cts;
        if (cts is null || !cts.TryReset())
        {
            cts?.Dispose();
            cts = new CancellationTokenSource();
            Volatile.Write(ref _cts, cts);
        }

        using var linked = cancellationToken.CanBeCanceled ? CancellationTokenSource.CreateLinkedTokenSource(cts.Token, cancellationToken) : null;
        try
        {
            await Task.Delay(delay, timeProvider, linked?.Token ?? cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // Interrupted: the caller's inner read or flush reports the cancellation.
        }
    }

    /// <summary>Ends a wait in progress, if any. Any thread.</summary>
    public void Interrupt()
    {
        try
        {
            Volatile.Read(ref _cts)?.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Completed meanwhile: nothing is waiting.
        }
    }

    /// <summary>Frees the token source when the pipe completes (a pipe reader or writer ends with Complete, not Dispose).</summary>
    public void Release() => _cts?.Dispose();
}
