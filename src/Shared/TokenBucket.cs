namespace KcpKestrel.Shared;

/// <summary>
/// A token bucket with no clock of its own: the caller passes the time in, either as a wrapping
/// millisecond tick (<see cref="RefillMs"/>, an I/O loop's and KCP's clock) or as a monotonic
/// timestamp of <see cref="TicksPerSecond"/> ticks (<see cref="Refill"/>, a
/// <see cref="TimeProvider"/>'s). Tokens may go into debt (<see cref="Take"/>), so a charge of any
/// size is exact in the long run. No lock: each instance has one thread (or one caller at a time).
/// Compiled into each project that uses it (src/Shared), so none of them references another.
/// </summary>
internal sealed class TokenBucket
{
    private double _tokens;
    private long _last;
    private bool _started;

    /// <param name="perSecond">Tokens earned per second (0: none, the bucket never refills).</param>
    /// <param name="capacity">The most tokens the bucket holds (the burst); it starts full.</param>
    /// <param name="ticksPerSecond">Ticks per second of the timestamps passed to <see cref="Refill"/>.</param>
    public TokenBucket(double perSecond, double capacity, long ticksPerSecond = 1000)
    {
        PerSecond = perSecond;
        Capacity = capacity;
        TicksPerSecond = ticksPerSecond;
        _tokens = capacity;
    }

    /// <summary>Tokens earned per second; may change between refills.</summary>
    public double PerSecond { get; set; }

    /// <summary>The most tokens the bucket holds; may change between refills (it caps the next refill).</summary>
    public double Capacity { get; set; }

    public long TicksPerSecond { get; }

    /// <summary>Tokens now, as of the last refill (negative: debt).</summary>
    public double Tokens => _tokens;

    /// <summary>Starts the clock at <paramref name="timestamp"/> without earning anything.</summary>
    public void Start(long timestamp)
    {
        _last = timestamp;
        _started = true;
    }

    /// <summary>
    /// Earns what the time since the last refill is worth, at <paramref name="timestamp"/> (ticks
    /// of <see cref="TicksPerSecond"/>). The first call only starts the clock; a clock that went
    /// backwards earns nothing.
    /// </summary>
    public void Refill(long timestamp)
    {
        var elapsed = _started ? timestamp - _last : 0;
        Start(timestamp);
        Earn(elapsed, TicksPerSecond);
    }

    /// <summary>
    /// <see cref="Refill"/> on a wrapping millisecond clock (uint, as KCP's <c>current</c>): the
    /// elapsed time is the signed 32-bit difference, so the wrap at 2^32 ms is seamless.
    /// </summary>
    public void RefillMs(uint nowMs)
    {
        var elapsed = _started ? (int)(nowMs - (uint)_last) : 0;
        Start(nowMs);
        Earn(elapsed, 1000);
    }

    /// <summary>Fills the bucket to its capacity.</summary>
    public void Fill() => _tokens = Capacity;

    /// <summary>Takes <paramref name="amount"/> tokens if the bucket holds that many.</summary>
    public bool TryTake(double amount)
    {
        if (_tokens < amount)
        {
            return false;
        }

        _tokens -= amount;
        return true;
    }

    /// <summary>Takes <paramref name="amount"/> tokens, going into debt if need be.</summary>
    public void Take(double amount) => _tokens -= amount;

    /// <summary>Seconds until the bucket holds <paramref name="tokens"/> (0 when it does; infinite at rate 0).</summary>
    public double SecondsUntil(double tokens) =>
        _tokens >= tokens ? 0 : (tokens - _tokens) / PerSecond;

    private void Earn(long elapsed, long ticksPerSecond)
    {
        if (elapsed > 0)
        {
            _tokens = Math.Min(Capacity, _tokens + (elapsed * PerSecond / ticksPerSecond));
        }
    }
}
