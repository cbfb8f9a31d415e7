namespace KcpKestrel.Core.Arq;

/// <summary>A snapshot of one control block's live figures (kcp-go keeps most of them in its global SNMP block).</summary>
internal readonly struct KcpStatistics
{
    /// <summary>Smoothed round-trip time in ms (rx_srtt).</summary>
    public int Srtt { get; init; }

    /// <summary>Round-trip time variation in ms (rx_rttvar).</summary>
    public int RttVar { get; init; }

    /// <summary>Current retransmission timeout in ms (rx_rto).</summary>
    public uint Rto { get; init; }

    /// <summary>Congestion window in segments (with rate control: its window in bytes, in full segments).</summary>
    public uint Cwnd { get; init; }

    /// <summary>Slow-start threshold in segments.</summary>
    public uint Ssthresh { get; init; }

    /// <summary>Segments sent and not yet covered by una (snd_nxt - snd_una).</summary>
    public uint InFlight { get; init; }

    /// <summary>Segments waiting in snd_queue.</summary>
    public int SendQueueLength { get; init; }

    /// <summary>Segments in snd_buf (sent, awaiting una).</summary>
    public int SendBufferLength { get; init; }

    /// <summary>Segments in rcv_queue, ready for the application.</summary>
    public int ReceiveQueueLength { get; init; }

    /// <summary>Out-of-order segments held in rcv_buf.</summary>
    public int ReceiveBufferLength { get; init; }

    /// <summary>Retransmissions triggered by <c>resend</c> duplicate acks (FastRetransSegs).</summary>
    public ulong FastRetransmits { get; init; }

    /// <summary>Early retransmissions (EarlyRetransSegs).</summary>
    public ulong EarlyRetransmits { get; init; }

    /// <summary>Retransmissions after an RTO expired (LostSegs).</summary>
    public ulong TimeoutRetransmits { get; init; }

    /// <summary>Segments of sparse traffic sent once more by the tail loss probe (not kcp-go; not in <see cref="Retransmits"/>).</summary>
    public ulong TailLossProbes { get; init; }

    /// <summary>Sum of all retransmissions (RetransSegs).</summary>
    public ulong Retransmits => FastRetransmits + EarlyRetransmits + TimeoutRetransmits;

    /// <summary>Segments that were declared lost by timeout (same count kcp-go names LostSegs).</summary>
    public ulong LostSegments => TimeoutRetransmits;

    /// <summary>PUSH segments received again (RepeatSegs).</summary>
    public ulong DuplicateSegments { get; init; }

    /// <summary>Segments accepted by Input (InSegs).</summary>
    public ulong SegmentsIn { get; init; }

    /// <summary>Segments written to the output (OutSegs).</summary>
    public ulong SegmentsOut { get; init; }

    /// <summary>Datagrams rejected because they were shorter than a header.</summary>
    public ulong RejectedTruncated { get; init; }

    /// <summary>Datagrams rejected because a len ran past their end.</summary>
    public ulong RejectedLengthMismatch { get; init; }

    /// <summary>Datagrams rejected for a foreign conv.</summary>
    public ulong RejectedWrongConv { get; init; }

    /// <summary>Datagrams rejected for an unknown cmd.</summary>
    public ulong RejectedUnknownCommand { get; init; }

    /// <summary>Segments skipped because their sn lay outside any acceptable window.</summary>
    public ulong RejectedOutOfWindow { get; init; }

    /// <summary>Segments skipped because their una acknowledged segments never sent.</summary>
    public ulong RejectedInvalidUna { get; init; }

    /// <summary>All rejections together.</summary>
    public ulong RejectedTotal =>
        RejectedTruncated + RejectedLengthMismatch + RejectedWrongConv + RejectedUnknownCommand + RejectedOutOfWindow + RejectedInvalidUna;

    /// <summary>Window-update (WINS) segments sent because the window reopened (beyond kcp-go).</summary>
    public ulong WindowReopenAnnouncements { get; init; }

    /// <summary>PUSH segments dropped unacknowledged because they did not fit the receive budget (not kcp-go).</summary>
    public ulong RejectedOverBudget { get; init; }
}
