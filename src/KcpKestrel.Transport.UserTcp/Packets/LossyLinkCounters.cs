namespace KcpKestrel.Transport.UserTcp.Packets;

/// <summary>
/// What a <see cref="LossyPacketSource"/> did to one direction, over all its queues: written by the loop threads
/// (interlocked: these events are rare next to the packets), read by tests and the stop report.
/// </summary>
internal sealed class LossyLinkCounters
{
    private long _packets;
    private long _dropped;
    private long _reordered;
    private long _duplicated;

    /// <summary>Packets offered to this direction.</summary>
    public long Packets => Volatile.Read(ref _packets);

    /// <summary>Packets dropped on purpose.</summary>
    public long Dropped => Volatile.Read(ref _dropped);

    /// <summary>Packets held back behind their successor.</summary>
    public long Reordered => Volatile.Read(ref _reordered);

    /// <summary>Packets delivered twice.</summary>
    public long Duplicated => Volatile.Read(ref _duplicated);

    internal void CountPacket() => Interlocked.Increment(ref _packets);

    internal void CountDropped() => Interlocked.Increment(ref _dropped);

    internal void CountReordered() => Interlocked.Increment(ref _reordered);

    internal void CountDuplicated() => Interlocked.Increment(ref _duplicated);
}
