using System.Buffers;
using System.Buffers.Binary;

namespace KcpKestrel.Core.Fec;

/// <summary>
/// kcp-go's fecEncoder: stamps each outgoing KCP packet as a data shard and, after every
/// <c>dataShards</c> packets, builds <c>parityShards</c> parity packets over the group (shards
/// zero-padded to the longest). One seqid counter serves data and parity; it wraps to 0 at the
/// largest multiple of dataShards + parityShards (kcp-go's "paws") so groups never straddle the wrap.
/// </summary>
/// <remarks>
/// Packet layout (as in kcp-go): <c>[headerOffset bytes for the cipher][seqid u32][flag u16][size u16][KCP bytes]</c>.
/// Parity packets have the same layout with parity bytes from the size field on.
/// Not thread-safe: one session's loop owns it. Shard buffers are rented as a group fills and returned
/// once its parity has been taken (at the next <see cref="Encode(Span{byte}, int, uint, uint)"/>), so a quiet
/// session holds only its partial group, not dataShards + parityShards MTU-sized buffers for its life.
/// </remarks>
internal sealed class FecEncoder : IDisposable
{
    private readonly ReedSolomon _codec;
    private readonly byte[]?[] _shards;
    private readonly int[] _lengths;
    private readonly uint _paws;
    private readonly int _payloadOffset;
    private int _shardCount;
    private int _maxSize;
    private int _parityLength;
    private uint _lastPacketTs;
    private bool _disposed;

    public FecEncoder(int dataShards, int parityShards, int headerOffset)
        : this(dataShards, parityShards, headerOffset, FecPacket.MtuLimit, GaloisKernels.Best)
    {
    }

    public FecEncoder(int dataShards, int parityShards, int headerOffset, int maxPacketSize, GfKernel kernel)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(headerOffset);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPacketSize, headerOffset + FecPacket.HeaderSizePlusSize);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxPacketSize - headerOffset - FecPacket.HeaderSize, ushort.MaxValue, nameof(maxPacketSize));
        _codec = new ReedSolomon(dataShards, parityShards, kernel);
        DataShards = dataShards;
        ParityShards = parityShards;
        HeaderOffset = headerOffset;
        MaxPacketSize = maxPacketSize;
        _payloadOffset = headerOffset + FecPacket.HeaderSize;
        var shardSize = (uint)(dataShards + parityShards);
        _paws = uint.MaxValue / shardSize * shardSize;
        _shards = new byte[dataShards + parityShards][];
        _lengths = new int[dataShards];
    }

    /// <summary>Where shard buffers come from and go back to; an I/O loop gives its sessions one of its own.</summary>
    public ArrayPool<byte> BufferPool { get; init; } = ArrayPool<byte>.Shared;

    public int DataShards { get; }

    public int ParityShards { get; }

    public int HeaderOffset { get; }

    public int MaxPacketSize { get; }

    /// <summary>The seqid the next packet (data or parity) gets.</summary>
    public uint NextSeqId { get; set; }

    /// <summary>Groups whose parity was not sent because the group was not continuous (see <see cref="Encode(Span{byte}, int, uint, uint)"/>).</summary>
    public long ParitySkippedGroups { get; private set; }

    /// <summary>Length of each parity packet from the last <see cref="Encode(Span{byte}, int, uint)"/> that returned parity.</summary>
    public int ParityLength => _parityLength;

    /// <summary>Encodes with parity always sent: kcp-go 5.6.1 (Debian's) behaviour.</summary>
    public int Encode(Span<byte> packet, int length, uint current) => Encode(packet, length, current, uint.MaxValue);

    /// <summary>
    /// Stamps <paramref name="packet"/> (<paramref name="length"/> bytes used, KCP bytes from
    /// <c>headerOffset + 8</c>) as the next data shard and copies it for parity. Returns the number of
    /// parity packets now ready: <see cref="ParityShards"/> when this packet completed a group, else 0.
    /// </summary>
    /// <param name="packet">The datagram being built; the FEC header is written in place.</param>
    /// <param name="length">Bytes of <paramref name="packet"/> in use (headerOffset + 8 + KCP bytes).</param>
    /// <param name="current">The caller's clock in ms.</param>
    /// <param name="rto">
    /// Later kcp-go (after 5.6.1) sends a group's parity only if the gap between its last two packets is
    /// under the session's current rto ms, and still advances seqid past the skipped parity.
    /// <see cref="uint.MaxValue"/> disables that (5.6.1 behaviour).
    /// </param>
    public int Encode(Span<byte> packet, int length, uint current, uint rto)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (length < _payloadOffset + 2 || length > MaxPacketSize || length > packet.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(length), length, "Packet must hold the FEC header and fit MaxPacketSize.");
        }

        if (_shardCount == 0)
        {
            // The caller has sent the previous group's parity by now (valid until this call).
            ReturnShards(DataShards, ParityShards);
        }

        var header = packet[HeaderOffset..];
        BinaryPrimitives.WriteUInt32LittleEndian(header, NextSeqId);
        BinaryPrimitives.WriteUInt16LittleEndian(header[4..], FecPacket.TypeData);
        BinaryPrimitives.WriteUInt16LittleEndian(header[6..], (ushort)(length - _payloadOffset));
        NextSeqId++;

        var shard = _shards[_shardCount] ??= BufferPool.Rent(MaxPacketSize);
        packet[_payloadOffset..length].CopyTo(shard.AsSpan(_payloadOffset));
        _lengths[_shardCount] = length;
        _shardCount++;
        _maxSize = Math.Max(_maxSize, length);

        var ready = 0;
        if (_shardCount == DataShards)
        {
            if (rto == uint.MaxValue || current - _lastPacketTs < rto)
            {
                for (var i = 0; i < DataShards; i++)
                {
                    _shards[i]!.AsSpan(_lengths[i], _maxSize - _lengths[i]).Clear();
                }

                for (var p = 0; p < ParityShards; p++)
                {
                    _shards[DataShards + p] = BufferPool.Rent(MaxPacketSize);
                }

                _codec.Encode(_shards!, _payloadOffset, _maxSize - _payloadOffset);
                for (var p = 0; p < ParityShards; p++)
                {
                    var parity = _shards[DataShards + p]!.AsSpan(HeaderOffset);
                    BinaryPrimitives.WriteUInt32LittleEndian(parity, NextSeqId);
                    BinaryPrimitives.WriteUInt16LittleEndian(parity[4..], FecPacket.TypeParity);
                    NextSeqId = (NextSeqId + 1) % _paws;
                }

                _parityLength = _maxSize;
                ready = ParityShards;
            }
            else
            {
                NextSeqId = (uint)((NextSeqId + (ulong)ParityShards) % _paws);
                ParitySkippedGroups++;
            }

            ReturnShards(0, DataShards);
            _shardCount = 0;
            _maxSize = 0;
        }

        _lastPacketTs = current;
        return ready;
    }

    /// <summary>
    /// Parity packet <paramref name="index"/> of the last completed group: <see cref="ParityLength"/> bytes,
    /// the first <see cref="HeaderOffset"/> free for the cipher header. Valid until the next Encode.
    /// </summary>
    public Span<byte> GetParityPacket(int index, out int length)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, ParityShards);
        length = _parityLength;
        return ParityShard(index).AsSpan(0, length);
    }

    /// <summary>The buffer behind <see cref="GetParityPacket"/>, for callers that need an array (e.g. to pin for sendmmsg).</summary>
    public byte[] GetParityBuffer(int index)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, ParityShards);
        return ParityShard(index);
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        ReturnShards(0, _shards.Length);
    }

    private byte[] ParityShard(int index) =>
        _shards[DataShards + index] ?? throw new InvalidOperationException("No parity is ready: the last Encode did not complete a group.");

    private void ReturnShards(int start, int count)
    {
        for (var i = start; i < start + count; i++)
        {
            if (_shards[i] is { } shard)
            {
                BufferPool.Return(shard);
                _shards[i] = null;
            }
        }
    }
}
