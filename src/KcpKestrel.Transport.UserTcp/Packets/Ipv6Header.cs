using System.Buffers.Binary;

namespace KcpKestrel.Transport.UserTcp.Packets;

/// <summary>
/// An IPv6 header (RFC 8200) over a received packet, checked on read: version, payload length. Extension headers
/// are not walked: only TCP directly as the next header is accepted (a Fragment header is counted as a fragment).
/// Also writes the header this stack sends.
/// </summary>
internal readonly ref struct Ipv6Header
{
    /// <summary>The fixed header's length.</summary>
    public const int Length = 40;

    /// <summary>The next-header number of TCP.</summary>
    public const byte NextHeaderTcp = 6;

    /// <summary>The next-header number of the Fragment extension header.</summary>
    public const byte NextHeaderFragment = 44;

    private readonly ReadOnlySpan<byte> _packet;

    private Ipv6Header(ReadOnlySpan<byte> packet) => _packet = packet;

    /// <summary>The packet as its payload-length field bounds it.</summary>
    public ReadOnlySpan<byte> Packet => _packet;

    /// <summary>The next-header field.</summary>
    public byte NextHeader => _packet[6];

    /// <summary>The hop limit.</summary>
    public byte HopLimit => _packet[7];

    /// <summary>The source address (16 bytes, network order).</summary>
    public ReadOnlySpan<byte> Source => _packet.Slice(8, 16);

    /// <summary>The destination address (16 bytes, network order).</summary>
    public ReadOnlySpan<byte> Destination => _packet.Slice(24, 16);

    /// <summary>What follows the fixed header, up to the payload length.</summary>
    public ReadOnlySpan<byte> Payload => _packet[Length..];

    /// <summary>
    /// Reads and checks the header of <paramref name="packet"/>; <see cref="PacketDropReason.None"/> when it is a
    /// whole IPv6 packet carrying TCP directly.
    /// </summary>
    public static PacketDropReason TryRead(ReadOnlySpan<byte> packet, out Ipv6Header header)
    {
        header = default;
        if (packet.Length > 0 && packet[0] >> 4 != 6)
        {
            return PacketDropReason.BadVersion;
        }

        if (packet.Length < Length)
        {
            return PacketDropReason.Truncated;
        }

        // A payload length of 0 would be a jumbogram (RFC 2675): never on a link of this stack's MTU.
        int payloadLength = BinaryPrimitives.ReadUInt16BigEndian(packet[4..]);
        if (payloadLength == 0)
        {
            return PacketDropReason.BadIpHeader;
        }

        if (Length + payloadLength > packet.Length)
        {
            return PacketDropReason.Truncated;
        }

        byte next = packet[6];
        if (next != NextHeaderTcp)
        {
            return next == NextHeaderFragment ? PacketDropReason.Fragment : PacketDropReason.NotTcp;
        }

        header = new Ipv6Header(packet[..(Length + payloadLength)]);
        return PacketDropReason.None;
    }

    /// <summary>
    /// Whether no TCP peer can have <paramref name="address"/> as its source: unspecified, loopback, multicast
    /// ff00::/8, and v4-mapped ::ffff:0:0/96 (RFC 4291 §2.5.5.2: never on the wire).
    /// </summary>
    public static bool IsMartianSource(ReadOnlySpan<byte> address)
    {
        if (address[0] == 0xFF)
        {
            return true;
        }

        ulong high = BinaryPrimitives.ReadUInt64BigEndian(address);
        ulong low = BinaryPrimitives.ReadUInt64BigEndian(address[8..]);
        return high == 0 && (low <= 1 || (low >> 32) == 0xFFFF);
    }

    /// <summary>Writes the 40-byte header (traffic class and flow label zero); its length.</summary>
    public static int Write(Span<byte> destination, ReadOnlySpan<byte> source, ReadOnlySpan<byte> target, byte nextHeader, int payloadLength, byte hopLimit)
    {
        var h = destination[..Length];
        BinaryPrimitives.WriteUInt32BigEndian(h, 0x6000_0000u);
        BinaryPrimitives.WriteUInt16BigEndian(h[4..], (ushort)payloadLength);
        h[6] = nextHeader;
        h[7] = hopLimit;
        source[..16].CopyTo(h[8..]);
        target[..16].CopyTo(h[24..]);
        return Length;
    }
}
