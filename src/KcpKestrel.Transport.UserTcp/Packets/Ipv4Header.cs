using System.Buffers.Binary;

namespace KcpKestrel.Transport.UserTcp.Packets;

/// <summary>
/// An IPv4 header (RFC 791) over a received packet, checked on read: version, IHL, total length, header checksum,
/// fragments. Also writes the header this stack sends (no options, DF set).
/// </summary>
internal readonly ref struct Ipv4Header
{
    /// <summary>The header's length without options; the only length this stack writes.</summary>
    public const int MinLength = 20;

    /// <summary>The protocol number of TCP.</summary>
    public const byte ProtocolTcp = 6;

    private const ushort MoreFragments = 0x2000;
    private const ushort DontFragment = 0x4000;
    private const ushort OffsetMask = 0x1FFF;

    private readonly ReadOnlySpan<byte> _packet;

    private Ipv4Header(ReadOnlySpan<byte> packet, int headerLength)
    {
        _packet = packet;
        HeaderLength = headerLength;
    }

    /// <summary>The header's length in bytes, options included.</summary>
    public int HeaderLength { get; }

    /// <summary>The packet as its total-length field bounds it (link padding cut off).</summary>
    public ReadOnlySpan<byte> Packet => _packet;

    /// <summary>The protocol field.</summary>
    public byte Protocol => _packet[9];

    /// <summary>The time to live.</summary>
    public byte Ttl => _packet[8];

    /// <summary>The identification field.</summary>
    public ushort Identification => BinaryPrimitives.ReadUInt16BigEndian(_packet[4..]);

    /// <summary>Whether DF is set.</summary>
    public bool IsDontFragment => (BinaryPrimitives.ReadUInt16BigEndian(_packet[6..]) & DontFragment) != 0;

    /// <summary>The source address (4 bytes, network order).</summary>
    public ReadOnlySpan<byte> Source => _packet.Slice(12, 4);

    /// <summary>The destination address (4 bytes, network order).</summary>
    public ReadOnlySpan<byte> Destination => _packet.Slice(16, 4);

    /// <summary>What follows the header, up to the total length.</summary>
    public ReadOnlySpan<byte> Payload => _packet[HeaderLength..];

    /// <summary>
    /// Reads and checks the header of <paramref name="packet"/>; <see cref="PacketDropReason.None"/> when it is a
    /// whole, unfragmented IPv4 packet whose header checksum verifies (the protocol is the caller's to check).
    /// </summary>
    public static PacketDropReason TryRead(ReadOnlySpan<byte> packet, out Ipv4Header header)
    {
        header = default;
        if (packet.Length < MinLength)
        {
            return packet.Length > 0 && packet[0] >> 4 != 4 ? PacketDropReason.BadVersion : PacketDropReason.Truncated;
        }

        if (packet[0] >> 4 != 4)
        {
            return PacketDropReason.BadVersion;
        }

        int headerLength = (packet[0] & 0x0F) * 4;
        int totalLength = BinaryPrimitives.ReadUInt16BigEndian(packet[2..]);
        if (headerLength < MinLength || totalLength < headerLength)
        {
            return PacketDropReason.BadIpHeader;
        }

        if (totalLength > packet.Length)
        {
            return PacketDropReason.Truncated;
        }

        if (!InternetChecksum.IsValid(packet[..headerLength]))
        {
            return PacketDropReason.BadIpChecksum;
        }

        ushort fragment = BinaryPrimitives.ReadUInt16BigEndian(packet[6..]);
        if ((fragment & (MoreFragments | OffsetMask)) != 0)
        {
            return PacketDropReason.Fragment;
        }

        header = new Ipv4Header(packet[..totalLength], headerLength);
        return PacketDropReason.None;
    }

    /// <summary>
    /// Whether no TCP peer can have <paramref name="address"/> as its source: 0.0.0.0/8, loopback 127/8, multicast
    /// 224/4, and 240/4 with the limited broadcast (RFC 1122 §3.2.1.3, RFC 1812 §5.3.7).
    /// </summary>
    public static bool IsMartianSource(ReadOnlySpan<byte> address)
    {
        byte first = address[0];
        return first == 0 || first == 127 || first >= 224;
    }

    /// <summary>
    /// Writes a 20-byte header (TTL <paramref name="ttl"/>, DF, no options) with its checksum; the header's length.
    /// </summary>
    public static int Write(Span<byte> destination, ReadOnlySpan<byte> source, ReadOnlySpan<byte> target, byte protocol, int payloadLength, ushort identification, byte ttl)
    {
        var h = destination[..MinLength];
        h[0] = 0x45;
        h[1] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(h[2..], (ushort)(MinLength + payloadLength));
        BinaryPrimitives.WriteUInt16BigEndian(h[4..], identification);
        BinaryPrimitives.WriteUInt16BigEndian(h[6..], DontFragment);
        h[8] = ttl;
        h[9] = protocol;
        h[10] = 0;
        h[11] = 0;
        source[..4].CopyTo(h[12..]);
        target[..4].CopyTo(h[16..]);
        BinaryPrimitives.WriteUInt16BigEndian(h[10..], InternetChecksum.Checksum(h));
        return MinLength;
    }
}
