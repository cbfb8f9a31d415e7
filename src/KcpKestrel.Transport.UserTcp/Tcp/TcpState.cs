namespace KcpKestrel.Transport.UserTcp.Tcp;

/// <summary>The connection states of RFC 9293 §3.3.2, with its names.</summary>
internal enum TcpState : byte
{
    Closed,
    Listen,
    SynSent,
    SynReceived,
    Established,
    FinWait1,
    FinWait2,
    CloseWait,
    Closing,
    LastAck,
    TimeWait,
}
