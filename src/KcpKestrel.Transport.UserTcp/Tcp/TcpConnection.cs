using KcpKestrel.Shared;

namespace KcpKestrel.Transport.UserTcp.Tcp;

/// <summary>
/// One TCP connection (RFC 9293): its state machine, send and receive buffers, RTO, congestion control and timers,
/// driven only by segments, app calls and its timer on the loop thread. CONTRACT STUB: the members below are the
/// surface the stack and the transport use; the implementation replaces this file.
/// </summary>
internal sealed class TcpConnection : TimerWheelEntry
{
    public TcpConnection(ITcpConnectionOwner owner, in TcpFlowKey flow, TcpConnectionOptions options)
    {
        Owner = owner;
        Flow = flow;
        Options = options;
    }

    public ITcpConnectionOwner Owner { get; }

    public TcpFlowKey Flow { get; }

    public TcpConnectionOptions Options { get; }

    public TcpState State { get; private set; }

    /// <summary>The connection's user; set by the acceptor or the active opener.</summary>
    public ITcpConnectionEvents? Events { get; set; }

    /// <summary>Bytes readable now.</summary>
    public int ReceivableBytes => throw new NotImplementedException();

    /// <summary>The peer's FIN arrived and every byte before it was read.</summary>
    public bool IsReceiveComplete => throw new NotImplementedException();

    /// <summary>Room left in the send buffer.</summary>
    public int SendableBytes => throw new NotImplementedException();

    /// <summary>Per-stream rate limit in bytes per second (0: none); composes with the congestion window.</summary>
    public long RateLimitBytesPerSecond { get; set; }

    /// <summary>From a SYN to a listening port: sends SYN-ACK with <paramref name="iss"/> (SYN-RECEIVED).</summary>
    public void OpenPassive(in TcpHeader syn, uint iss, uint now) => throw new NotImplementedException();

    /// <summary>
    /// From the ACK that completes a SYN-cookie handshake: straight to ESTABLISHED with what the cookie encoded
    /// (<paramref name="mss"/>, the peer's window scale or -1, SACK-permitted) and <paramref name="iss"/>.
    /// </summary>
    public void OpenFromCookie(in TcpHeader ack, uint iss, ushort mss, int peerWindowScale, bool sackPermitted, ReadOnlySpan<byte> payload, uint now) => throw new NotImplementedException();

    /// <summary>Active open: sends SYN with <paramref name="iss"/> (SYN-SENT).</summary>
    public void OpenActive(uint iss, uint now) => throw new NotImplementedException();

    /// <summary>A segment of this flow (RFC 9293 §3.10.7 "SEGMENT ARRIVES", with RFC 5961's checks).</summary>
    public void OnSegment(in TcpHeader header, ReadOnlySpan<byte> payload, uint now) => throw new NotImplementedException();

    /// <summary>Copies readable bytes out; may send a window update. Returns the count (0: none now).</summary>
    public int Receive(Span<byte> destination, uint now) => throw new NotImplementedException();

    /// <summary>Queues bytes to send (Nagle off: sent at once as window and rate allow); returns how many were taken.</summary>
    public int Send(ReadOnlySpan<byte> data, uint now) => throw new NotImplementedException();

    /// <summary>Half-close: FIN after everything queued (CLOSE in ESTABLISHED or CLOSE-WAIT).</summary>
    public void Shutdown(uint now) => throw new NotImplementedException();

    /// <summary>Abort: RST, then CLOSED at once.</summary>
    public void Abort(uint now) => throw new NotImplementedException();

    /// <summary>A snapshot of the connection's figures (srtt, rto, cwnd, bytes, retransmits) for the meter and features.</summary>
    public TcpConnectionStatistics GetStatistics() => throw new NotImplementedException();

    public override void OnTimer(uint now) => throw new NotImplementedException();
}
