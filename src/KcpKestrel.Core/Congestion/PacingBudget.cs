namespace KcpKestrel.Core.Congestion;

/// <summary>
/// Bytes the pacer lets out now: a token bucket refilled at the pacing rate on the caller's ms clock. Its depth
/// is two ms of the rate (a loop woken a tick late still keeps the rate) and at least two datagrams, so at any
/// rate a burst is what one or two timer ticks are worth. A send may overdraw it; the debt delays the next.
/// </summary>
internal sealed class PacingBudget(int datagramBytes)
{
    private const uint DepthMs = 2;

    private double _tokens;
    private uint _last;
    private bool _started;

    /// <summary>Bytes that may leave now (negative: a debt the rate repays first).</summary>
    public double Tokens => _tokens;

    /// <summary>True while something may be sent.</summary>
    public bool HasTokens => _tokens > 0;

    /// <summary>Adds what <paramref name="bytesPerMs"/> earned since the last refill, up to the bucket's depth.</summary>
    public void Refill(uint now, double bytesPerMs)
    {
        var depth = Math.Max(bytesPerMs * DepthMs, 2.0 * datagramBytes);
        if (!_started)
        {
            _started = true;
            _tokens = depth;
        }
        else
        {
            _tokens = Math.Min(_tokens + (bytesPerMs * (int)(now - _last)), depth);
        }

        _last = now;
    }

    /// <summary>Charges <paramref name="bytes"/> just sent.</summary>
    public void Take(int bytes) => _tokens -= bytes;

    /// <summary>The first ms at or after <paramref name="now"/> at which the bucket holds tokens again.</summary>
    public uint ReadyAt(uint now, double bytesPerMs)
    {
        var owed = -(_tokens + (bytesPerMs * (int)(now - _last)));
        if (owed < 0 || !_started)
        {
            return now;
        }

        return now + (uint)Math.Clamp(Math.Ceiling((owed + 1) / Math.Max(bytesPerMs, 1e-3)), 1, 1000);
    }
}
