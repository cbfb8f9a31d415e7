using KcpKestrel.Core.Crypto;

namespace KcpKestrel.Multicast.Security;

/// <summary>
/// The replay state of every sender heard under the group's key: one <see cref="ReplayWindow"/> per
/// sender id, over nonce counters that are the sender's clock in Unix microseconds (see
/// <see cref="MulticastCipher"/>). Bounded: at most <c>capacity</c> windows, reused, never freed.
/// </summary>
/// <remarks>
/// A window alone is not enough on a group: a sender whose window was forgotten (evicted, or never
/// seen because this receiver started after the capture) would have its old packets accepted again.
/// So every packet must also be recent: its counter within <c>maxSkew</c> of this host's clock. A
/// window is evicted only once its newest counter is older than that, when every packet it could
/// still refuse is refused by the time check instead, so eviction opens no hole. When every window
/// is younger, a new sender is refused (counted) until one ages out. One thread (the receive loop).
/// </remarks>
internal sealed class SenderReplayTable(int capacity, long maxSkewMicros)
{
    private readonly Dictionary<uint, ReplayWindow> _windows = new(capacity);
    private readonly Stack<ReplayWindow> _free = new();

    /// <summary>Senders with a window.</summary>
    public int Count => _windows.Count;

    /// <summary>
    /// After authentication, before <see cref="TryCommit"/>: <see cref="CipherResult.Ok"/> when <paramref name="counter"/> from
    /// <paramref name="sender"/> may be fresh, else <see cref="CipherResult.Replayed"/> (seen, older than
    /// the window, or outside the clock skew). Changes nothing.
    /// </summary>
    public CipherResult Check(uint sender, ulong counter, long nowMicros)
    {
        var now = (ulong)nowMicros;
        var skew = (ulong)maxSkewMicros;
        if (counter + skew < now || counter > now + skew)
        {
            return CipherResult.Replayed;
        }

        return _windows.TryGetValue(sender, out var window) ? window.Check(sender, counter) : CipherResult.Ok;
    }

    /// <summary>
    /// After authentication: records <paramref name="counter"/>. False when <paramref name="sender"/> is
    /// new and every window is still needed (the packet must be dropped).
    /// </summary>
    public bool TryCommit(uint sender, ulong counter, long nowMicros)
    {
        if (!_windows.TryGetValue(sender, out var window))
        {
            if (_windows.Count >= capacity && !TryEvict(nowMicros))
            {
                return false;
            }

            window = _free.TryPop(out var reused) ? reused : new ReplayWindow();
            window.Reset();
            _windows.Add(sender, window);
        }

        window.Commit(sender, counter);
        return true;
    }

    private bool TryEvict(long nowMicros)
    {
        var oldestSender = 0u;
        var oldest = ulong.MaxValue;
        foreach (var (sender, window) in _windows)
        {
            if (window.Highest < oldest)
            {
                oldest = window.Highest;
                oldestSender = sender;
            }
        }

        if (oldest + (ulong)maxSkewMicros >= (ulong)nowMicros)
        {
            return false;
        }

        _windows.Remove(oldestSender, out var evicted);
        _free.Push(evicted!);
        return true;
    }
}
