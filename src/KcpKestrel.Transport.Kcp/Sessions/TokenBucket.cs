namespace KcpKestrel.Transport.Kcp.Sessions;

/// <summary>A loop-local token bucket on the loop's millisecond clock (no lock: one thread).</summary>
internal sealed class TokenBucket(int perSecond)
{
    private readonly double _capacity = Math.Max(1, perSecond);
    private readonly double _perMs = perSecond / 1000.0;
    private double _tokens = Math.Max(1, perSecond);
    private uint _last;
    private bool _started;

    public bool TryTake(uint now)
    {
        if (perSecond <= 0)
        {
            return true;
        }

        if (_started)
        {
            var elapsed = (int)(now - _last);
            if (elapsed > 0)
            {
                _tokens = Math.Min(_capacity, _tokens + (elapsed * _perMs));
            }
        }

        _started = true;
        _last = now;
        if (_tokens < 1)
        {
            return false;
        }

        _tokens -= 1;
        return true;
    }
}
