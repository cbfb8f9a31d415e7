namespace KcpKestrel.Transport.UserTcp.Tcp;

/// <summary>A connection's figures at one moment (per-stream metrics).</summary>
internal readonly record struct TcpConnectionStatistics(
    TcpState State,
    int SmoothedRttMs,
    int RttVarianceMs,
    int RtoMs,
    int CongestionWindowBytes,
    int SlowStartThresholdBytes,
    int PeerWindowBytes,
    int Mss,
    long BytesSent,
    long BytesReceived,
    long SegmentsSent,
    long SegmentsReceived,
    long Retransmits,
    long BytesInFlight);
