namespace KcpKestrel.Transport.Kcp.Sessions;

/// <summary>
/// QUIC's anti-amplification rule for a peer whose address is not proven: until it is, the session sends
/// it at most <c>limit</c> times the bytes it received from it, retransmissions and FEC parity included.
/// A datagram over budget is not sent (KCP resends it once the peer sends more or proves its address).
/// kcp-go has no handshake, so this is what bounds a spoofed source in every mode. Loop thread only.
/// </summary>
internal sealed class AmplificationBudget
{
    private long _limit;
    private long _received;
    private long _sent;

    /// <summary>True once the peer showed it receives what we send to its address, or while it need not (we dialled it).</summary>
    public bool IsProven { get; private set; } = true;

    /// <summary>The peer must prove its address; until then it gets at most <paramref name="limit"/> bytes per byte it sent.</summary>
    public void Require(int limit)
    {
        _limit = limit;
        IsProven = false;
    }

    /// <summary>Bytes still allowed to the unproven address (long.MaxValue once proven).</summary>
    public long Remaining => IsProven ? long.MaxValue : (_received * _limit) - _sent;

    /// <summary>Counts a datagram received from the peer, wire bytes.</summary>
    public void OnReceived(int bytes) => _received += bytes;

    /// <summary>Whether a datagram of <paramref name="bytes"/> may go; if so it is counted as sent.</summary>
    public bool TrySend(int bytes)
    {
        if (IsProven)
        {
            return true;
        }

        if (_sent + bytes > _received * _limit)
        {
            return false;
        }

        _sent += bytes;
        return true;
    }

    /// <summary>The peer's address is proven: the budget no longer applies.</summary>
    public void MarkProven() => IsProven = true;
}
