using System.Buffers.Binary;

namespace KcpKestrel.Multicast.Wire;

/// <summary>Writes the fixed-size control packets: NAK, Heartbeat, Gone.</summary>
internal static class ControlPackets
{
    /// <summary>The largest control packet (Gone); a scratch buffer of this size holds any of them.</summary>
    public const int MaxSize = PacketHeader.Size + PacketHeader.GoneBodySize;

    public static int WriteNak(Span<byte> destination, ushort source, ushort publisher, uint stream, ulong first, uint count)
    {
        new PacketHeader(PacketKind.Nak, PacketFlags.None, source, publisher, stream, first).Write(destination);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[PacketHeader.Size..], count);
        return PacketHeader.Size + PacketHeader.NakBodySize;
    }

    public static int WriteHeartbeat(
        Span<byte> destination, PacketFlags flags, ushort source, uint stream, ulong latest, ulong oldest)
    {
        new PacketHeader(PacketKind.Heartbeat, flags, source, PacketHeader.Everyone, stream, latest).Write(destination);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[PacketHeader.Size..], oldest);
        return PacketHeader.Size + PacketHeader.HeartbeatBodySize;
    }

    public static int WriteGone(
        Span<byte> destination, ushort source, ushort subscriber, uint stream, ulong first, uint count, ulong oldest)
    {
        new PacketHeader(PacketKind.Gone, PacketFlags.None, source, subscriber, stream, first).Write(destination);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[PacketHeader.Size..], count);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[(PacketHeader.Size + 4)..], oldest);
        return PacketHeader.Size + PacketHeader.GoneBodySize;
    }
}
