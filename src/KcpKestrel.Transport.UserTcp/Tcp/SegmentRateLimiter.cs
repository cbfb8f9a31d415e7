using KcpKestrel.Shared;

namespace KcpKestrel.Transport.UserTcp.Tcp;

/// <summary>
/// A stack-wide budget of segments sent in answer to segments nobody asked for (RFC 5961 §7's challenge ACKs,
/// resets for closed ports), so a flood of junk can never make the stack send without bound: a token bucket of
/// <c>perSecond</c> tokens refilled from the loop's ms clock, holding at most one second's worth.
/// </summary>
internal sealed class SegmentRateLimiter
{
    private readonly TokenBucket _bucket;

    /// <param name="perSecond">Segments allowed per second (0: none at all).</param>
    public SegmentRateLimiter(int perSecond)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(perSecond);
        _bucket = new TokenBucket(perSecond, perSecond);
    }

    /// <summary>Takes one segment's token at <paramref name="now"/> (ms); false when the budget is spent.</summary>
    public bool TryTake(uint now)
    {
        _bucket.RefillMs(now);
        return _bucket.TryTake(1);
    }
}
