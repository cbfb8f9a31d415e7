namespace KcpKestrel.Transport.Kcp;

/// <summary>How a KCP session decides how much to send and when (<see cref="KcpOptions.CongestionControl"/>).</summary>
public enum KcpCongestionControl
{
    /// <summary>
    /// kcp-go's: up to the send window (or cwnd, when <see cref="KcpOptions.NoCongestionControl"/> is off) goes out at
    /// once on each flush.
    /// </summary>
    Kcp,

    /// <summary>
    /// Rate-based, in the spirit of BBR: the bottleneck delivery rate and the minimum RTT are estimated from
    /// acknowledgements, sends are paced at that rate, and data in flight is bounded by their product.
    /// </summary>
    Bbr,
}
