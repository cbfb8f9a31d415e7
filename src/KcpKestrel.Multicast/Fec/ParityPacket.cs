using System.Buffers.Binary;
using KcpKestrel.Multicast.Wire;

namespace KcpKestrel.Multicast.Fec;

/// <summary>
/// The FEC layout (docs/multicast-wire.md). A group is <c>k</c> consecutive Data packets of one stream,
/// the first with a sequence of <c>1 + n·k</c>; no bytes are added to Data packets. Each data shard is
/// <c>length u16 | the Data packet as sent first</c> (Retransmit flag clear), zero-padded to the group's
/// longest. A Parity packet is the usual header (kind Parity, the stream's node, stream and flags,
/// sequence: the group's first) and <c>index u8 | k u8 | m u8 | 0 u8</c>, then the parity shard.
/// </summary>
internal static class ParityPacket
{
    /// <summary>Header and body bytes before the parity shard.</summary>
    public const int HeaderSize = PacketHeader.Size + 4;

    /// <summary>The length prefix of a data shard.</summary>
    public const int LengthPrefix = 2;

    /// <summary>What FEC costs the publisher's payload budget: a Parity packet is this much longer than the group's longest Data packet.</summary>
    public const int Overhead = HeaderSize + LengthPrefix;

    public static void WriteHeader(Span<byte> destination, PacketFlags flags, ushort node, uint stream, ulong first, int index, int dataShards, int parityShards)
    {
        new PacketHeader(PacketKind.Parity, flags, node, PacketHeader.Everyone, stream, first).Write(destination);
        destination[PacketHeader.Size] = (byte)index;
        destination[PacketHeader.Size + 1] = (byte)dataShards;
        destination[PacketHeader.Size + 2] = (byte)parityShards;
        destination[PacketHeader.Size + 3] = 0;
    }

    /// <summary>
    /// Reads a Parity packet's place: false when it is too short, not of the shape
    /// <paramref name="dataShards"/>/<paramref name="parityShards"/>, or its sequence starts no group.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> packet, int dataShards, int parityShards, out ushort node, out uint stream, out ulong first, out int index)
    {
        node = 0;
        stream = 0;
        first = 0;
        index = 0;
        if (packet.Length <= HeaderSize || packet[0] != PacketHeader.Magic || packet[1] != PacketHeader.Version
            || packet[PacketHeader.Size + 1] != dataShards || packet[PacketHeader.Size + 2] != parityShards
            || packet[PacketHeader.Size] >= parityShards)
        {
            return false;
        }

        first = BinaryPrimitives.ReadUInt64LittleEndian(packet[12..]);
        if (first == 0 || (first - 1) % (ulong)dataShards != 0)
        {
            return false;
        }

        node = BinaryPrimitives.ReadUInt16LittleEndian(packet[4..]);
        stream = BinaryPrimitives.ReadUInt32LittleEndian(packet[8..]);
        index = packet[PacketHeader.Size];
        return true;
    }
}
