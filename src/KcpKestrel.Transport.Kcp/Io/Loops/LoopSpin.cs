namespace KcpKestrel.Transport.Kcp.Io.Loops;

/// <summary>
/// Whether a loop polls for a short window before it sleeps. Falling asleep in epoll_wait or io_uring_enter and
/// being woken again costs a ping-pong tens of microseconds per message; polling through the gap saves that when the
/// next datagram or posted work comes within the window. Adaptive, so quiet or sparse traffic (thousands of idle
/// sessions, messages further apart than the window) does not burn a core: every window that passes empty doubles
/// how many sleeps go by before the next spin (up to <see cref="MaxBackoff"/> doublings); every spin that catches
/// something halves it again. Pure: the loop measures the window and reports what happened.
/// </summary>
internal sealed class LoopSpin(long windowTicks)
{
    /// <summary>The default window: about one loopback round trip of the peer's own work.</summary>
    public const int DefaultWindowMicroseconds = 50;

    /// <summary>At most 2^10 - 1 sleeps between spins once traffic stopped coming within the window.</summary>
    public const int MaxBackoff = 10;

    private int _backoff;
    private int _skip;

    /// <summary>The window in <see cref="System.Diagnostics.Stopwatch"/> ticks (0: never spin).</summary>
    public long WindowTicks => windowTicks;

    /// <summary>Doublings in force (tests).</summary>
    internal int Backoff => _backoff;

    /// <summary>Whether to spin before this sleep; counts the sleep as one the backoff skips when not.</summary>
    public bool ShouldSpin()
    {
        if (windowTicks <= 0)
        {
            return false;
        }

        if (_skip > 0)
        {
            _skip--;
            return false;
        }

        return true;
    }

    /// <summary>A spin ended: something came within the window (<paramref name="caught"/>), or the window passed empty.</summary>
    public void OnSpinEnded(bool caught)
    {
        if (caught)
        {
            _backoff = Math.Max(0, _backoff - 1);
            _skip = 0;
            return;
        }

        _backoff = Math.Min(MaxBackoff, _backoff + 1);
        _skip = (1 << _backoff) - 1;
    }
}
