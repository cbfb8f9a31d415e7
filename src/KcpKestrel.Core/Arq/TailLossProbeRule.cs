namespace KcpKestrel.Core.Arq;

/// <summary>
/// When a tail loss probe (in the spirit of RFC 8985's TLP; no KCP has one) sends an unacknowledged segment of
/// sparse traffic once more before its rto. A lost segment with nothing sent after it gets no later acks, so
/// neither fast nor early retransmit can fire: recovery waits for the rto, at least 30 ms (nodelay) or 100 ms,
/// however short the path, and FEC cannot help because a group of sparse datagrams fills long after. A probe is
/// an ordinary PUSH repeated: the wire format is kcp-go's, so it protects what we send toward any peer.
/// </summary>
internal static class TailLossProbeRule
{
    /// <summary>
    /// Sparse: at most this many segments in flight and nothing waiting to be sent. A bulk sender has more in
    /// flight, and its losses are repaired by the acks of what follows them.
    /// </summary>
    public const uint MaxInFlight = 4;

    /// <summary>
    /// The least wait (ms): with a 1 ms clock a sub-millisecond path reads as srtt 0, and the ack of a segment
    /// sent just before a clock tick may read 1 ms old; this keeps probes for acks that are lost, not late.
    /// </summary>
    public const uint MinDelayMs = 2;

    /// <summary>
    /// The wait after a segment's last send before it is probed: srtt + 2 × rttvar, at least
    /// <see cref="MinDelayMs"/>. An ack normally comes within srtt + rttvar; the margin keeps jitter from
    /// probing segments that arrived.
    /// </summary>
    public static uint Delay(int srtt, int rttvar) => Math.Max(MinDelayMs, (uint)Math.Max(0, srtt) + 2 * (uint)Math.Max(0, rttvar));

    /// <summary>Whether the send buffer holds sparse traffic: few segments in flight, nothing queued behind them.</summary>
    public static bool Applies(uint inFlight, int queued) => inFlight <= MaxInFlight && queued == 0;
}
