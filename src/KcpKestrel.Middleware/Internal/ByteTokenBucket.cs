namespace KcpKestrel.Middleware.Internal;

/// <summary>
/// A byte token bucket that may go into debt: a read or flush of any size is charged in full and the
/// next one waits until the debt is repaid, so the long-run rate is exact whatever the chunk sizes.
/// One per direction per connection, used by that direction's single reader or writer (no lock).
/// </summary>
internal sealed class ByteTokenBucket
{
    private readonly double _bytesPerSecond;
    private readonly double _burst;
    private readonly TimeProvider _timeProvider;
    private double _tokens;
    private long _last;

    public ByteTokenBucket(long bytesPerSecond, long burst, TimeProvider timeProvider)
    {
        _bytesPerSecond = bytesPerSecond;
        _burst = burst;
        _timeProvider = timeProvider;
        _tokens = burst;
        _last = timeProvider.GetTimestamp();
    }

    /// <summary>Tokens now (negative = debt).</summary>
    public double Tokens
    {
        get
        {
            Refill();
            return _tokens;
        }
    }

    /// <summary>Charges <paramref name="bytes"/>; returns how long until the bucket is out of debt.</summary>
    public TimeSpan Take(long bytes)
    {
        Refill();
        _tokens -= bytes;
        return Delay();
    }

    /// <summary>How long until the bucket is out of debt (zero when it is not in debt).</summary>
    public TimeSpan Delay()
    {
        Refill();
        return _tokens >= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(-_tokens / _bytesPerSecond);
    }

    private void Refill()
    {
        var now = _timeProvider.GetTimestamp();
        var elapsed = _timeProvider.GetElapsedTime(_last, now).TotalSeconds;
        _last = now;
        if (elapsed > 0)
        {
            _tokens = Math.Min(_burst, _tokens + (elapsed * _bytesPerSecond));
        }
    }
}
