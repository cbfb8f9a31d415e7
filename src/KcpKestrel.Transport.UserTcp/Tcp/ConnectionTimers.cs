namespace KcpKestrel.Transport.UserTcp.Tcp;

/// <summary>
/// Which of a connection's deadlines are armed. The connection is one entry on the loop's timer wheel, scheduled
/// at the earliest armed deadline; RTO and persist share a deadline (persist runs only with nothing in flight),
/// and so do keep-alive and TIME_WAIT (keep-alive never runs in TIME_WAIT).
/// </summary>
[Flags]
internal enum ConnectionTimers : byte
{
    None = 0,

    /// <summary>Retransmission (of data, FIN, SYN or SYN-ACK).</summary>
    Retransmit = 0x01,

    /// <summary>Zero-window probe.</summary>
    Persist = 0x02,

    /// <summary>Delayed ACK.</summary>
    DelayedAck = 0x04,

    /// <summary>Keep-alive idle check or probe.</summary>
    KeepAlive = 0x08,

    /// <summary>TIME_WAIT's 2 MSL.</summary>
    TimeWait = 0x10,

    /// <summary>The rate limit's tokens will have accrued.</summary>
    RateLimit = 0x20,
}
