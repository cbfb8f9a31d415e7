namespace KcpKestrel.Multicast.Publishing;

/// <summary>What a publisher did, for metrics and tests. One writer (the publisher's thread).</summary>
internal sealed class PublisherCounters
{
    public long Messages;
    public long Packets;
    public long Heartbeats;

    /// <summary>TryOffer refused: the rate limit left no packet to send the full batch.</summary>
    public long RateLimited;

    /// <summary>TryOffer refused: the next packet would overwrite one subscribers are still repairing (RepairHold).</summary>
    public long RepairWaits;

    /// <summary>TryOffer refused: the congestion response (burst NAKs lowered the rate) left no packet to send the batch.</summary>
    public long CongestionWaits;

    public long NaksReceived;

    public long Retransmits;

    /// <summary>NAKed sequences resent within the suppress window already (NAK storm).</summary>
    public long NaksSuppressed;

    /// <summary>NAKed sequences never sent (0, or past the latest).</summary>
    public long NaksNeverSent;

    /// <summary>NAKed sequences that left the history (answered with Gone).</summary>
    public long NaksGone;

    /// <summary>Datagrams dropped at parse, or NAKs for another node or stream.</summary>
    public long Dropped;
}
