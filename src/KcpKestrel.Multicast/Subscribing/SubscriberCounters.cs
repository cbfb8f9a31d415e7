namespace KcpKestrel.Multicast.Subscribing;

/// <summary>What a subscriber did, for metrics and tests. One writer (the receive thread).</summary>
internal sealed class SubscriberCounters
{
    public long Packets;
    public long Messages;

    /// <summary>Packets already delivered or buffered.</summary>
    public long Duplicates;

    /// <summary>Packets beyond the receive buffer (dropped; a NAK fetches them later).</summary>
    public long FarAhead;

    /// <summary>Datagrams dropped at parse, aimed at another node, or from publishers past the limit.</summary>
    public long Dropped;

    /// <summary>Messages on topics not subscribed.</summary>
    public long Filtered;

    public long NaksSent;

    /// <summary>Gaps signalled as unrecoverable, and the packets they held.</summary>
    public long Unrecoverable;
    public long UnrecoverablePackets;

    /// <summary>Packets skipped by unreliable streams.</summary>
    public long Skipped;

    /// <summary>Fragmented messages that could not be reassembled (a gap, a join mid-message, a bad total).</summary>
    public long BrokenMessages;

    public long PublishersGone;
}
