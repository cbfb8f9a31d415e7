namespace KcpKestrel.Transport.UserTcp.Tcp;

/// <summary>Why a connection ended, as the app and the metrics see it.</summary>
internal enum TcpCloseReason : byte
{
    /// <summary>Both sides closed (FIN each way, all data acknowledged).</summary>
    Closed,

    /// <summary>The peer reset the connection (an in-window RST).</summary>
    Reset,

    /// <summary>This side aborted (sent RST).</summary>
    Aborted,

    /// <summary>Retransmissions (or SYN retries) ran out: the peer is gone or unreachable.</summary>
    TimedOut,

    /// <summary>Keep-alive probes went unanswered.</summary>
    KeepAliveTimedOut,

    /// <summary>The active open was refused (RST to our SYN).</summary>
    Refused,

    /// <summary>The stack shut down.</summary>
    Shutdown,
}
