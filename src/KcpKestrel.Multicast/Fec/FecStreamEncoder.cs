using System.Buffers.Binary;
using KcpKestrel.Core.Fec;
using KcpKestrel.Multicast.Wire;

namespace KcpKestrel.Multicast.Fec;

/// <summary>
/// The publisher's side of FEC: copies each new Data packet into its group's shard and, when the
/// group's <c>k</c>-th arrives, computes the <c>m</c> Parity packets (<see cref="ParityPacket"/>).
/// Resends and control packets pass by. Fixed buffers allocated once; not thread-safe.
/// </summary>
internal sealed class FecStreamEncoder
{
    private readonly ReedSolomon _codec;
    private readonly byte[][] _shards;
    private readonly int _dataShards;
    private readonly int _parityShards;
    private readonly int _maxPacket;
    private ulong _first;
    private int _count;
    private int _longest;
    private int _parityLength;

    /// <param name="dataShards">k: Data packets per group.</param>
    /// <param name="parityShards">m: Parity packets per group.</param>
    /// <param name="maxPacket">The longest Data packet the publisher builds.</param>
    public FecStreamEncoder(int dataShards, int parityShards, int maxPacket)
    {
        _codec = new ReedSolomon(dataShards, parityShards);
        _dataShards = dataShards;
        _parityShards = parityShards;
        _maxPacket = maxPacket;
        _shards = new byte[dataShards + parityShards][];
        for (var i = 0; i < _shards.Length; i++)
        {
            // Shards start at HeaderSize, so a parity shard's buffer is its whole Parity packet.
            _shards[i] = GC.AllocateArray<byte>(ParityPacket.HeaderSize + ParityPacket.LengthPrefix + maxPacket, pinned: true);
        }
    }

    /// <summary>Groups given up because a Data packet was missing or out of order (none from our own publisher).</summary>
    public long BrokenGroups { get; private set; }

    /// <summary>
    /// Takes a packet on its way out; returns <c>m</c> when it completed a group (read them with
    /// <see cref="GetParity"/> before the next call), else 0.
    /// </summary>
    public int Add(ReadOnlySpan<byte> packet)
    {
        if (packet.Length < PacketHeader.Size || (PacketKind)packet[2] != PacketKind.Data || (((PacketFlags)packet[3]) & PacketFlags.Retransmit) != 0)
        {
            return 0;
        }

        var sequence = BinaryPrimitives.ReadUInt64LittleEndian(packet[12..]);
        var index = (int)((sequence - 1) % (ulong)_dataShards);
        if (index == 0)
        {
            _first = sequence;
            _count = 0;
            _longest = 0;
        }

        if (index != _count || sequence != _first + (ulong)index || packet.Length > _maxPacket)
        {
            BrokenGroups += _count > 0 ? 1 : 0;
            _count = -1;
            return 0;
        }

        var shard = _shards[index].AsSpan(ParityPacket.HeaderSize);
        BinaryPrimitives.WriteUInt16LittleEndian(shard, (ushort)packet.Length);
        packet.CopyTo(shard[ParityPacket.LengthPrefix..]);
        _longest = Math.Max(_longest, packet.Length);
        if (++_count < _dataShards)
        {
            return 0;
        }

        var length = ParityPacket.LengthPrefix + _longest;
        for (var i = 0; i < _dataShards; i++)
        {
            var used = ParityPacket.LengthPrefix + BinaryPrimitives.ReadUInt16LittleEndian(_shards[i].AsSpan(ParityPacket.HeaderSize));
            _shards[i].AsSpan(ParityPacket.HeaderSize + used, length - used).Clear();
        }

        _codec.Encode(_shards, ParityPacket.HeaderSize, length);
        var flags = (PacketFlags)packet[3];
        var node = BinaryPrimitives.ReadUInt16LittleEndian(packet[4..]);
        var stream = BinaryPrimitives.ReadUInt32LittleEndian(packet[8..]);
        for (var p = 0; p < _parityShards; p++)
        {
            ParityPacket.WriteHeader(_shards[_dataShards + p], flags, node, stream, _first, p, _dataShards, _parityShards);
        }

        _parityLength = ParityPacket.HeaderSize + length;
        _count = -1;
        return _parityShards;
    }

    /// <summary>Parity packet <paramref name="index"/> of the group just completed.</summary>
    public ReadOnlySpan<byte> GetParity(int index) => _shards[_dataShards + index].AsSpan(0, _parityLength);
}
