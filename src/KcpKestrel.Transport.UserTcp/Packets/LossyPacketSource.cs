namespace KcpKestrel.Transport.UserTcp.Packets;

/// <summary>
/// Wraps any <see cref="IPacketSource"/> (a TUN device, an in-memory link) and impairs its traffic with seeded
/// loss, reordering and duplication, separately for packets the stack receives and packets it sends: retransmission,
/// SACK recovery and duplicate handling can then be driven against the kernel's TCP, repeatably. Each queue draws
/// from its own generator seeded from <c>seed</c> and its index, so a run with one queue replays exactly.
/// </summary>
internal sealed class LossyPacketSource : IPacketSource
{
    private readonly IPacketSource _inner;
    private readonly LinkImpairment _receive;
    private readonly LinkImpairment _send;
    private readonly int _seed;

    /// <param name="inner">The real source; disposed with this one.</param>
    /// <param name="receive">What happens to packets on their way into the stack.</param>
    /// <param name="send">What happens to packets the stack sends.</param>
    /// <param name="seed">The generators' seed.</param>
    public LossyPacketSource(IPacketSource inner, LinkImpairment receive, LinkImpairment send, int seed)
    {
        ArgumentNullException.ThrowIfNull(inner);
        receive.Validate();
        send.Validate();
        _inner = inner;
        _receive = receive;
        _send = send;
        _seed = seed;
    }

    /// <summary>The same impairment both ways.</summary>
    public LossyPacketSource(IPacketSource inner, LinkImpairment both, int seed)
        : this(inner, both, both, seed)
    {
    }

    /// <inheritdoc/>
    public int Mtu => _inner.Mtu;

    /// <inheritdoc/>
    public int QueueCount => _inner.QueueCount;

    /// <summary>What was done to the packets coming in.</summary>
    public LossyLinkCounters Received { get; } = new();

    /// <summary>What was done to the packets going out.</summary>
    public LossyLinkCounters Sent { get; } = new();

    /// <inheritdoc/>
    public IPacketQueue OpenQueue(int index)
    {
        var queue = _inner.OpenQueue(index);

        // Distinct, fixed streams per queue and direction: mixing the index in keeps queue 0 of seed 7 the same
        // whatever the queue count.
        var receive = new ImpairedDirection(_receive, Received, unchecked((_seed * 31) + (index * 2)), Mtu);
        var send = new ImpairedDirection(_send, Sent, unchecked((_seed * 31) + (index * 2) + 1), Mtu);
        return new LossyPacketQueue(queue, receive, send);
    }

    /// <inheritdoc/>
    public void Dispose() => _inner.Dispose();
}
