namespace KcpKestrel.Transport.UserTcp.Packets;

/// <summary>
/// One direction of one <see cref="LossyPacketQueue"/>: its generator, the verdict on each packet, and the two
/// packets it may be holding (one held back to be reordered, one copy to be duplicated), in buffers allocated once.
/// </summary>
internal sealed class ImpairedDirection
{
    private readonly LinkImpairment _impairment;
    private readonly Random _random;
    private readonly byte[] _held;
    private readonly byte[] _copy;

    public ImpairedDirection(LinkImpairment impairment, LossyLinkCounters counters, int seed, int mtu)
    {
        _impairment = impairment;
        Counters = counters;
        _random = new Random(seed);
        var size = impairment.Reorder > 0 || impairment.Duplicate > 0 ? mtu : 0;
        _held = new byte[impairment.Reorder > 0 ? size : 0];
        _copy = new byte[impairment.Duplicate > 0 ? size : 0];
    }

    public LossyLinkCounters Counters { get; }

    /// <summary>The length of the packet held back (0: none).</summary>
    public int HeldLength { get; private set; }

    /// <summary>The held packet's successor has gone by: it is due next.</summary>
    public bool HeldDue { get; set; }

    /// <summary>The length of the duplicate waiting to go (0: none).</summary>
    public int CopyLength { get; private set; }

    /// <summary>Anything waiting to be delivered without a new packet.</summary>
    public bool HasPending => HeldLength > 0 || CopyLength > 0;

    /// <summary>Draws the fate of the next packet (counted), of <paramref name="length"/> bytes.</summary>
    public PacketVerdict Judge(int length)
    {
        Counters.CountPacket();
        if (_impairment.Loss > 0 && _random.NextDouble() < _impairment.Loss)
        {
            Counters.CountDropped();
            return PacketVerdict.Drop;
        }

        // Only one packet is held at a time, and only packets that fit the buffers: the rest pass untouched.
        if (_impairment.Reorder > 0 && _random.NextDouble() < _impairment.Reorder && HeldLength == 0 && length <= _held.Length)
        {
            Counters.CountReordered();
            return PacketVerdict.Hold;
        }

        if (_impairment.Duplicate > 0 && _random.NextDouble() < _impairment.Duplicate && CopyLength == 0 && length <= _copy.Length)
        {
            Counters.CountDuplicated();
            return PacketVerdict.Duplicate;
        }

        return PacketVerdict.Pass;
    }

    public void Hold(ReadOnlySpan<byte> packet)
    {
        packet.CopyTo(_held);
        HeldLength = packet.Length;
        HeldDue = false;
    }

    public void Copy(ReadOnlySpan<byte> packet)
    {
        packet.CopyTo(_copy);
        CopyLength = packet.Length;
    }

    public ReadOnlySpan<byte> Held => _held.AsSpan(0, HeldLength);

    public ReadOnlySpan<byte> Copied => _copy.AsSpan(0, CopyLength);

    public void ClearHeld()
    {
        HeldLength = 0;
        HeldDue = false;
    }

    public void ClearCopy() => CopyLength = 0;
}
