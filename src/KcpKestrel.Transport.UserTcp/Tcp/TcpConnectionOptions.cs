namespace KcpKestrel.Transport.UserTcp.Tcp;

/// <summary>
/// What a connection is configured with; filled from the public options by the transport (the names, ranges and
/// defaults live there, in <c>UserTcpOptions</c>). CONTRACT: the implementation may add members.
/// </summary>
internal sealed class TcpConnectionOptions
{
    /// <summary>The MSS this side announces (the packet source's MTU minus the IP and TCP headers).</summary>
    public ushort Mss { get; init; } = 1460;

    /// <summary>Receive buffer size in bytes (the advertised window's ceiling; window scaling follows from it).</summary>
    public int ReceiveBufferSize { get; init; } = 256 * 1024;

    /// <summary>Send buffer size in bytes.</summary>
    public int SendBufferSize { get; init; } = 256 * 1024;

    /// <summary>Delayed-ACK timeout in ms (RFC 1122 §4.2.3.2 allows up to 500; 0 acks every segment).</summary>
    public int DelayedAckMs { get; init; } = 40;

    /// <summary>Nagle's algorithm (off by default: Kestrel writes whole responses).</summary>
    public bool NoDelay { get; init; } = true;

    /// <summary>Keep-alive idle time in ms before the first probe; 0 disables keep-alive.</summary>
    public int KeepAliveIdleMs { get; init; } = 7_200_000;

    /// <summary>Keep-alive probe interval in ms.</summary>
    public int KeepAliveIntervalMs { get; init; } = 75_000;

    /// <summary>Unanswered keep-alive probes before the connection is dropped.</summary>
    public int KeepAliveProbes { get; init; } = 9;

    /// <summary>Minimum RTO in ms (RFC 6298 says 1 s; Linux uses 200 ms).</summary>
    public int MinRtoMs { get; init; } = 200;

    /// <summary>Maximum RTO in ms.</summary>
    public int MaxRtoMs { get; init; } = 120_000;

    /// <summary>Retransmissions of one segment before the connection times out (like tcp_retries2).</summary>
    public int MaxRetransmits { get; init; } = 15;

    /// <summary>SYN (or SYN-ACK) retransmissions before an open fails.</summary>
    public int MaxSynRetransmits { get; init; } = 6;

    /// <summary>TIME_WAIT length in ms (2 MSL; Linux uses 60 s).</summary>
    public int TimeWaitMs { get; init; } = 60_000;

    /// <summary>Per-stream rate limit in bytes per second (0: none).</summary>
    public long RateLimitBytesPerSecond { get; init; }

    /// <summary>Whether to offer and accept SACK.</summary>
    public bool Sack { get; init; } = true;

    /// <summary>Whether to offer and accept timestamps.</summary>
    public bool Timestamps { get; init; } = true;

    /// <summary>Whether to offer and accept window scaling.</summary>
    public bool WindowScaling { get; init; } = true;

    /// <summary>
    /// Where the send and receive rings are rented from (and returned to when empty). A loop may give its
    /// connections a pool of their own so other threads never take (or trim) their arrays.
    /// </summary>
    public System.Buffers.ArrayPool<byte> BufferPool { get; init; } = System.Buffers.ArrayPool<byte>.Shared;
}
