using System.Buffers.Binary;

namespace KcpKestrel.Multicast.Wire;

/// <summary>
/// The fixed 20-byte little-endian header every datagram starts with (docs/multicast-wire.md):
/// magic, version, kind, flags, source node, target node (0: everyone), stream id, sequence.
/// </summary>
internal readonly record struct PacketHeader(
    PacketKind Kind, PacketFlags Flags, ushort Source, ushort Target, uint Stream, ulong Sequence)
{
    public const int Size = 20;
    public const byte Magic = 0x6D;
    public const byte Version = 1;

    /// <summary>The target node id meaning "every subscriber of the group".</summary>
    public const ushort Everyone = 0;

    /// <summary>Bytes of the fixed bodies (Data has frames instead).</summary>
    public const int NakBodySize = 4;
    public const int HeartbeatBodySize = 8;
    public const int GoneBodySize = 12;

    /// <summary>The most packets one NAK (or Gone) names, so a forged count cannot make a long loop.</summary>
    public const uint MaxNakCount = 4096;

    public void Write(Span<byte> destination)
    {
        destination[0] = Magic;
        destination[1] = Version;
        destination[2] = (byte)Kind;
        destination[3] = (byte)Flags;
        BinaryPrimitives.WriteUInt16LittleEndian(destination[4..], Source);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[6..], Target);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[8..], Stream);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[12..], Sequence);
    }

    /// <summary>
    /// Reads and checks a whole datagram: the header, then its kind's body (the fixed size, or
    /// every frame of a Data packet). Only <see cref="ParseStatus.Ok"/> fills <paramref name="header"/>.
    /// </summary>
    public static ParseStatus TryRead(ReadOnlySpan<byte> datagram, out PacketHeader header)
    {
        header = default;
        if (datagram.Length < Size)
        {
            return ParseStatus.Truncated;
        }

        if (datagram[0] != Magic)
        {
            return ParseStatus.BadMagic;
        }

        if (datagram[1] != Version)
        {
            return ParseStatus.BadVersion;
        }

        var kind = (PacketKind)datagram[2];
        var flags = (PacketFlags)datagram[3];
        if ((flags & ~PacketFlags.All) != 0)
        {
            return ParseStatus.BadFlags;
        }

        var sequence = BinaryPrimitives.ReadUInt64LittleEndian(datagram[12..]);
        var body = datagram[Size..];
        var status = kind switch
        {
            PacketKind.Data => sequence == 0 ? ParseStatus.BadSequence : FrameReader.Validate(body),
            PacketKind.Nak => CheckRange(body, NakBodySize, sequence),
            PacketKind.Heartbeat => CheckFixed(body, HeartbeatBodySize),
            PacketKind.Gone => CheckRange(body, GoneBodySize, sequence),
            _ => ParseStatus.UnknownKind,
        };
        if (status != ParseStatus.Ok)
        {
            return status;
        }

        header = new PacketHeader(
            kind,
            flags,
            BinaryPrimitives.ReadUInt16LittleEndian(datagram[4..]),
            BinaryPrimitives.ReadUInt16LittleEndian(datagram[6..]),
            BinaryPrimitives.ReadUInt32LittleEndian(datagram[8..]),
            sequence);
        return ParseStatus.Ok;
    }

    /// <summary>The count of a checked NAK or Gone body.</summary>
    public static uint ReadCount(ReadOnlySpan<byte> datagram) =>
        BinaryPrimitives.ReadUInt32LittleEndian(datagram[Size..]);

    /// <summary>The oldest sequence in history, of a checked Heartbeat or Gone body.</summary>
    public static ulong ReadOldest(ReadOnlySpan<byte> datagram, PacketKind kind) =>
        BinaryPrimitives.ReadUInt64LittleEndian(datagram[(kind == PacketKind.Gone ? Size + 4 : Size)..]);

    private static ParseStatus CheckFixed(ReadOnlySpan<byte> body, int size) =>
        body.Length < size ? ParseStatus.Truncated : body.Length > size ? ParseStatus.BadLength : ParseStatus.Ok;

    private static ParseStatus CheckRange(ReadOnlySpan<byte> body, int size, ulong first)
    {
        var status = CheckFixed(body, size);
        if (status != ParseStatus.Ok)
        {
            return status;
        }

        if (first == 0)
        {
            return ParseStatus.BadSequence;
        }

        var count = BinaryPrimitives.ReadUInt32LittleEndian(body);
        return count == 0 || count > MaxNakCount || first > ulong.MaxValue - count
            ? ParseStatus.BadCount
            : ParseStatus.Ok;
    }
}
