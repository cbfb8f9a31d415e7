using KcpKestrel.Shared;

namespace KcpKestrel.Transport.Kcp.Sessions;

/// <summary>
/// The session's send-rate cap: how many app bytes may enter KCP now. A token bucket on the loop's
/// millisecond clock whose burst is a tenth of a second's worth (at least <see cref="MinBurst"/>),
/// so pacing is smooth but not chatty. The cap may change from any thread; the rest is loop-thread only.
/// </summary>
internal sealed class SendRateLimiter
{
    /// <summary>The smallest burst: a few segments, whatever the cap.</summary>
    public const int MinBurst = 16 * 1024;

    /// <summary>Tokens worth waiting for when blocked: one useful write, not a byte at a time.</summary>
    public const int UsefulWrite = 4096;

    /// <summary>Bounds of a blocked sender's wait (ms).</summary>
    public const int MinWaitMs = 1;
    public const int MaxWaitMs = 1000;

    // The burst is this fraction of a second's worth.
    private const double BurstSeconds = 0.1;

    private readonly TokenBucket _bucket = new(0, 0);
    private long _limit;
    private bool _started;

    /// <summary>Bytes per second at most (0: no cap). Any thread.</summary>
    public long Limit
    {
        get => Volatile.Read(ref _limit);
        set => Volatile.Write(ref _limit, Math.Max(0, value));
    }

    /// <summary>Bytes the cap lets into KCP now (int.MaxValue without a cap).</summary>
    public int Allowance(uint now)
    {
        var limit = Limit;
        if (limit <= 0)
        {
            return int.MaxValue;
        }

        _bucket.PerSecond = limit;
        _bucket.Capacity = Math.Max(limit * BurstSeconds, MinBurst);
        if (!_started)
        {
            // The first send under a cap starts with a full burst.
            _started = true;
            _bucket.Fill();
        }

        _bucket.RefillMs(now);
        return (int)Math.Min(_bucket.Tokens, int.MaxValue);
    }

    /// <summary>Charges bytes that went into KCP (at most the last <see cref="Allowance"/>).</summary>
    public void Charge(int bytes) => _bucket.Take(bytes);

    /// <summary>Milliseconds until the cap has refilled enough for a useful write.</summary>
    public uint RefillMs()
    {
        var limit = Limit;
        if (limit <= 0)
        {
            return MinWaitMs;
        }

        var missing = Math.Max(1.0, UsefulWrite - _bucket.Tokens);
        return (uint)Math.Clamp(Math.Ceiling(missing * 1000.0 / limit), MinWaitMs, MaxWaitMs);
    }
}
