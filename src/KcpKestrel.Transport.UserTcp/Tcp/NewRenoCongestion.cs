namespace KcpKestrel.Transport.UserTcp.Tcp;

/// <summary>
/// Congestion control of RFC 5681 (slow start, congestion avoidance, fast retransmit) with NewReno's recovery
/// (RFC 6582): cwnd and ssthresh in bytes. The connection drives it; SACK-based recovery (RFC 6675) uses the same
/// window and <see cref="Recover"/> point and only decides which bytes to resend.
/// </summary>
internal struct NewRenoCongestion
{
    /// <summary>The congestion window in bytes.</summary>
    public int Cwnd;

    /// <summary>The slow-start threshold in bytes.</summary>
    public int Ssthresh;

    /// <summary>Duplicate ACKs in a row.</summary>
    public int DupAcks;

    /// <summary>Whether fast recovery is under way.</summary>
    public bool InRecovery;

    /// <summary>RFC 6582's "recover": the highest sequence number sent when recovery began.</summary>
    public uint Recover;

    /// <summary>The initial window (RFC 6928: ten segments) and an unbounded threshold.</summary>
    public void Start(int mss)
    {
        Cwnd = 10 * mss;
        Ssthresh = int.MaxValue;
        DupAcks = 0;
        InRecovery = false;
    }

    /// <summary>New data acknowledged outside recovery: slow start (ABC, L = 2 MSS, RFC 3465) or congestion avoidance.</summary>
    public void OnAck(int acked, int mss)
    {
        if (Cwnd < Ssthresh)
        {
            Cwnd += Math.Min(acked, 2 * mss);
        }
        else
        {
            Cwnd += Math.Max(1, (int)((long)mss * mss / Cwnd));
        }

        Cwnd = Math.Min(Cwnd, 1 << 30);
    }

    /// <summary>Loss detected by duplicate ACKs or SACK: halve (RFC 5681 eq. 4) and enter recovery until <paramref name="sndMax"/> is acknowledged.</summary>
    public void EnterRecovery(int flight, int mss, uint sndMax, bool sack)
    {
        Ssthresh = Math.Max(flight / 2, 2 * mss);
        Cwnd = sack ? Ssthresh : Ssthresh + (3 * mss);
        InRecovery = true;
        Recover = sndMax;
    }

    /// <summary>A partial ACK in NewReno recovery (RFC 6582 §3.2 step 5): deflate by what was acked, add one MSS back.</summary>
    public void OnPartialAck(int acked, int mss, bool sack)
    {
        if (!sack)
        {
            Cwnd = Math.Max(mss, Cwnd - acked + mss);
        }
    }

    /// <summary>The full ACK that ends recovery (RFC 6582 §3.2 step 6, option 1).</summary>
    public void ExitRecovery(int flight, int mss)
    {
        Cwnd = Math.Max(Math.Min(Ssthresh, flight + mss), mss);
        InRecovery = false;
        DupAcks = 0;
    }

    /// <summary>A retransmission timeout (RFC 5681 eq. 4 and §3.1): one segment, threshold halved.</summary>
    public void OnTimeout(int flight, int mss)
    {
        Ssthresh = Math.Max(flight / 2, 2 * mss);
        Cwnd = mss;
        InRecovery = false;
        DupAcks = 0;
    }
}
