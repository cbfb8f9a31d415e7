using System.Buffers;
using System.Buffers.Binary;
using KcpKestrel.Core.Fec;
using KcpKestrel.Multicast.Codec;
using KcpKestrel.Multicast.Wire;

namespace KcpKestrel.Multicast.Fec;

/// <summary>
/// The subscriber's side of FEC: per publisher stream, the last few groups' shards; when a group has
/// <c>k</c> of its <c>k + m</c> shards but misses Data packets, they are rebuilt and handed on like
/// received ones. Data packets are handed on by the caller as they arrive; this only keeps copies.
/// Bounded: <see cref="GroupsPerStream"/> groups per stream, at most <c>maxStreams</c> streams, shard
/// buffers from a pool. One thread (the receive loop).
/// </summary>
internal sealed class FecStreamDecoder
{
    /// <summary>Groups collected at once per stream: the newest and the ones just behind it.</summary>
    public const int GroupsPerStream = 4;

    private readonly ArrayPool<byte> _pool;
    private readonly Dictionary<ulong, StreamGroups> _streams;
    private readonly ReedSolomon _codec;
    private readonly int _dataShards;
    private readonly int _parityShards;
    private readonly int _shardCapacity;
    private readonly int _maxStreams;
    private readonly long _idleAfter;

    /// <param name="dataShards">k, as the publishers send it.</param>
    /// <param name="parityShards">m, as the publishers send it.</param>
    /// <param name="maxPacket">The longest Data packet kept (the receiver's datagram size); longer groups are not rebuilt.</param>
    /// <param name="maxStreams">Streams followed at once; an idle one makes room for a new one.</param>
    /// <param name="idleAfterMicros">Silence after which a stream is idle.</param>
    public FecStreamDecoder(int dataShards, int parityShards, int maxPacket, int maxStreams, long idleAfterMicros)
    {
        _codec = new ReedSolomon(dataShards, parityShards);
        _dataShards = dataShards;
        _parityShards = parityShards;
        _shardCapacity = ParityPacket.LengthPrefix + maxPacket;

        // Its own pool, sized for a few streams' groups: the shared pool keeps too few arrays per size
        // for the dozens a stream's groups hold at once, and would allocate in steady state.
        _pool = ArrayPool<byte>.Create(_shardCapacity, Math.Min(4096, 4 * GroupsPerStream * (dataShards + parityShards)));
        _maxStreams = maxStreams;
        _idleAfter = idleAfterMicros;
        _streams = new Dictionary<ulong, StreamGroups>(maxStreams);
    }

    /// <summary>Where <see cref="PacketCodecCounters.FecRecovered"/> and the parity counts go.</summary>
    public PacketCodecCounters Counters { get; init; } = new();

    /// <summary>Keeps a copy of a Data packet already handed on; may complete a group and rebuild others.</summary>
    public void OnData(ReadOnlySpan<byte> packet, long now, IDatagramSink output)
    {
        if (packet.Length < PacketHeader.Size || packet.Length + ParityPacket.LengthPrefix > _shardCapacity)
        {
            return;
        }

        var sequence = BinaryPrimitives.ReadUInt64LittleEndian(packet[12..]);
        if (sequence == 0)
        {
            return;
        }

        var index = (int)((sequence - 1) % (ulong)_dataShards);
        var slot = Slot(packet, sequence - (ulong)index, now);
        if (slot is null || slot.Done || slot.Present[index])
        {
            return;
        }

        var shard = _pool.Rent(_shardCapacity);
        BinaryPrimitives.WriteUInt16LittleEndian(shard, (ushort)packet.Length);
        packet.CopyTo(shard.AsSpan(ParityPacket.LengthPrefix));

        // A resend is the first sending with the Retransmit flag set: clear it to get the shard back.
        shard[ParityPacket.LengthPrefix + 3] &= unchecked((byte)~PacketFlags.Retransmit);
        Store(slot, index, shard);
        slot.DataCount++;
        TryComplete(slot, output);
    }

    /// <summary>Takes a Parity packet; may rebuild its group's missing Data packets into <paramref name="output"/>.</summary>
    public void OnParity(ReadOnlySpan<byte> packet, long now, IDatagramSink output)
    {
        if (!ParityPacket.TryRead(packet, _dataShards, _parityShards, out _, out _, out var first, out var index)
            || packet.Length - ParityPacket.HeaderSize > _shardCapacity)
        {
            Counters.ParityDropped++;
            return;
        }

        Counters.ParityReceived++;
        var slot = Slot(packet, first, now);
        var position = _dataShards + index;
        var length = packet.Length - ParityPacket.HeaderSize;
        if (slot is null || slot.Done || slot.Present[position] || (slot.ParityLength >= 0 && slot.ParityLength != length))
        {
            return;
        }

        var shard = _pool.Rent(_shardCapacity);
        packet[ParityPacket.HeaderSize..].CopyTo(shard);
        slot.ParityLength = length;
        Store(slot, position, shard);
        TryComplete(slot, output);
    }

    private static void Store(FecGroupSlot slot, int position, byte[] shard)
    {
        slot.Shards[position] = shard;
        slot.Present[position] = true;
        slot.Count++;
    }

    private void TryComplete(FecGroupSlot slot, IDatagramSink output)
    {
        if (slot.DataCount == _dataShards)
        {
            Finish(slot);
            return;
        }

        if (slot.Count < _dataShards || slot.ParityLength < 0)
        {
            return;
        }

        var length = slot.ParityLength;
        for (var i = 0; i < _dataShards; i++)
        {
            if (slot.Present[i])
            {
                var used = ParityPacket.LengthPrefix + BinaryPrimitives.ReadUInt16LittleEndian(slot.Shards[i]);
                if (used > length)
                {
                    // This packet cannot be in a group whose parity is shorter: not ours to rebuild.
                    Counters.ParityDropped++;
                    Finish(slot);
                    return;
                }

                slot.Shards[i].AsSpan(used, length - used).Clear();
            }
            else
            {
                slot.Shards[i] = _pool.Rent(_shardCapacity);
            }
        }

        _codec.ReconstructData(slot.Shards!, slot.Present, 0, length);
        for (var i = 0; i < _dataShards; i++)
        {
            if (slot.Present[i])
            {
                continue;
            }

            var rebuilt = slot.Shards[i].AsSpan(0, length);
            var size = BinaryPrimitives.ReadUInt16LittleEndian(rebuilt);
            if (size >= PacketHeader.Size && ParityPacket.LengthPrefix + size <= length)
            {
                Counters.FecRecovered++;
                output.Send(rebuilt.Slice(ParityPacket.LengthPrefix, size));
            }
            else
            {
                Counters.ParityDropped++;
            }
        }

        Finish(slot);
    }

    private void Finish(FecGroupSlot slot)
    {
        slot.Done = true;
        slot.Release(_pool);
    }

    /// <summary>The slot of the group starting at <paramref name="first"/> of the packet's stream; null when out of reach.</summary>
    private FecGroupSlot? Slot(ReadOnlySpan<byte> packet, ulong first, long now)
    {
        var node = BinaryPrimitives.ReadUInt16LittleEndian(packet[4..]);
        var streamId = BinaryPrimitives.ReadUInt32LittleEndian(packet[8..]);
        var key = ((ulong)node << 32) | streamId;
        if (!_streams.TryGetValue(key, out var stream))
        {
            if (_streams.Count >= _maxStreams && !TryEvictIdle(now))
            {
                return null;
            }

            stream = new StreamGroups(_dataShards + _parityShards);
            _streams.Add(key, stream);
        }

        stream.LastHeard = now;
        var slot = stream.Slots[(int)((first - 1) / (ulong)_dataShards % GroupsPerStream)];
        if (!slot.InUse || first > slot.First)
        {
            // A newer group takes the slot of the one GroupsPerStream behind it.
            slot.Release(_pool);
            slot.Open(first);
        }

        return slot.First == first ? slot : null;
    }

    private bool TryEvictIdle(long now)
    {
        foreach (var (key, stream) in _streams)
        {
            if (now - stream.LastHeard > _idleAfter)
            {
                foreach (var slot in stream.Slots)
                {
                    slot.Release(_pool);
                }

                _streams.Remove(key);
                return true;
            }
        }

        return false;
    }

    private sealed class StreamGroups
    {
        public StreamGroups(int totalShards)
        {
            Slots = new FecGroupSlot[GroupsPerStream];
            for (var i = 0; i < Slots.Length; i++)
            {
                Slots[i] = new FecGroupSlot(totalShards);
            }
        }

        public FecGroupSlot[] Slots { get; }

        public long LastHeard { get; set; }
    }
}
