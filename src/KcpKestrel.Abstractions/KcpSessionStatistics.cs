namespace KcpKestrel.Transport.Kcp;

/// <summary>Live figures of one KCP session (times in milliseconds).</summary>
public readonly record struct KcpSessionStatistics
{
    /// <summary>Smoothed round-trip time.</summary>
    public int SmoothedRtt { get; init; }

    /// <summary>Round-trip time variation.</summary>
    public int RttVariance { get; init; }

    /// <summary>Current retransmission timeout.</summary>
    public int Rto { get; init; }

    /// <summary>Congestion window in segments.</summary>
    public int CongestionWindow { get; init; }

    /// <summary>Segments sent and not yet acknowledged.</summary>
    public int InFlight { get; init; }

    /// <summary>Segments queued to send (not yet in flight).</summary>
    public int SendQueue { get; init; }

    /// <summary>Segments received and waiting for the app.</summary>
    public int ReceiveQueue { get; init; }

    /// <summary>The peer's advertised receive window.</summary>
    public int RemoteWindow { get; init; }

    /// <summary>Segments retransmitted after duplicate acks (fast retransmit).</summary>
    public long FastRetransmits { get; init; }

    /// <summary>Segments retransmitted early (kcp-go's early retransmit).</summary>
    public long EarlyRetransmits { get; init; }

    /// <summary>Segments retransmitted after their timeout.</summary>
    public long TimeoutRetransmits { get; init; }

    /// <summary>Segments the engine counted as lost.</summary>
    public long LostSegments { get; init; }

    /// <summary>Duplicate segments received.</summary>
    public long DuplicateSegments { get; init; }

    /// <summary>
    /// KCP segments sent: first transmissions, retransmissions, acknowledgements and probes (kcp-go's OutSegs), so
    /// retransmissions can be read as a share of the traffic.
    /// </summary>
    public long SegmentsSent { get; init; }

    /// <summary>Data shards rebuilt from FEC parity.</summary>
    public long FecRecovered { get; init; }

    /// <summary>Payload bytes delivered to the app.</summary>
    public long BytesReceived { get; init; }

    /// <summary>Payload bytes taken from the app to send.</summary>
    public long BytesSent { get; init; }
}
