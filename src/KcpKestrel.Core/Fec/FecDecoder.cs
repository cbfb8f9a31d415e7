using System.Buffers;
using System.Buffers.Binary;
using KcpKestrel.Core.Arq;

namespace KcpKestrel.Core.Fec;

/// <summary>
/// kcp-go's fecDecoder, reshaped around fixed group slots: data shards go to the sink at once;
/// parity is kept until a group has dataShards shards, then the lost data shards are rebuilt and
/// delivered. At most <see cref="FecPacket.RxGroups"/> groups are held (the newest and the ones just
/// behind it), each for at most <see cref="FecPacket.ExpireMs"/>; anything else is counted and dropped.
/// </summary>
/// <remarks>
/// <para>Auto-tuning (kcp-go autotune.go): every packet's flag is sampled by seqid; when a flag does not
/// fit the position its seqid implies under the current (k, m), the runs of data and parity flags
/// are measured and, when both are found, the decoder switches to the peer's (k, m). This is always
/// on, as in kcp-go; built with (0, 0) the decoder starts at (1, 1) as kcp-go's session does when it
/// gets FEC packets without FEC configured. A switch drops the groups held.</para>
/// <para>Data shards outside the window (late beyond it, or far away) are still delivered: KCP
/// is the judge of its own segments, kcp-go delivers them too, and refusing them could stall a session
/// after a forged far-ahead seqid. Only FEC state ignores them. A run of such shards long enough to be a
/// real jump (4 groups' worth) re-anchors the window.</para>
/// Not thread-safe: one session's loop owns it.
/// </remarks>
internal sealed class FecDecoder : IDisposable
{
    private readonly long[] _drops = new long[Enum.GetValues<FecDecodeResult>().Length];
    private readonly FecAutoTune _autoTune = new();
    private readonly FecCodecCache _codecs;
    private readonly int _maxShardLength;
    private ReedSolomon _codec = null!;
    private FecGroup[] _groups = [];
    private bool[] _presentScratch = [];
    private uint _newest;
    private bool _hasNewest;
    private int _outsideStreak;
    private bool _disposed;

    /// <summary>Where shard buffers come from and go back to; an I/O loop gives its sessions one of its own.</summary>
    public ArrayPool<byte> BufferPool { get; init; } = ArrayPool<byte>.Shared;

    /// <summary>
    /// What the shards kept for recovery may hold, shared with the peer's other receive buffers; null: bounded
    /// by the group window only. A shard that does not fit is not kept (a data shard still goes to KCP), so
    /// only the chance to rebuild its group is lost.
    /// </summary>
    public IReceiveBudget? ReceiveBudget { get; init; }

    public FecDecoder(int dataShards, int parityShards)
        : this(dataShards, parityShards, FecPacket.MtuLimit, GaloisKernels.Best)
    {
    }

    /// <summary>A decoder whose codecs come from <paramref name="codecs"/>, shared with the other decoders of one loop.</summary>
    public FecDecoder(int dataShards, int parityShards, FecCodecCache codecs)
        : this(dataShards, parityShards, FecPacket.MtuLimit, codecs)
    {
    }

    public FecDecoder(int dataShards, int parityShards, int maxPacketSize, GfKernel kernel)
        : this(dataShards, parityShards, maxPacketSize, new FecCodecCache(kernel: kernel))
    {
    }

    private FecDecoder(int dataShards, int parityShards, int maxPacketSize, FecCodecCache codecs)
    {
        if (dataShards == 0 && parityShards == 0)
        {
            dataShards = 1;
            parityShards = 1;
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(dataShards, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(parityShards, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(dataShards + parityShards, ReedSolomon.MaxTotalShards, nameof(parityShards));
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPacketSize, FecPacket.HeaderSizePlusSize);
        _codecs = codecs;
        _maxShardLength = maxPacketSize - FecPacket.HeaderSize;
        _codecs.TryAcquire(dataShards, parityShards, out var codec, required: true);
        Configure(codec!);
    }

    public int DataShards { get; private set; }

    public int ParityShards { get; private set; }

    public long DataShardsReceived { get; private set; }

    public long ParityShardsReceived { get; private set; }

    /// <summary>Data shards rebuilt from parity and delivered (kcp-go FECRecovered).</summary>
    public long Recovered { get; private set; }

    /// <summary>Rebuilt shards whose size field was impossible, so not delivered (kcp-go FECErrs).</summary>
    public long FailedReconstructs { get; private set; }

    /// <summary>Groups evicted (window or expiry) with data shards missing and too few shards to rebuild them (kcp-go FECShortShards counts the packets).</summary>
    public long ShortGroups { get; private set; }

    /// <summary>Data shards delivered without FEC bookkeeping because their group is outside the window.</summary>
    public long DataOutsideWindow { get; private set; }

    /// <summary>Shards not kept for recovery because they did not fit the <see cref="ReceiveBudget"/>.</summary>
    public long ShardsOverBudget { get; private set; }

    /// <summary>Times the auto-tuner switched (k, m).</summary>
    public long Retunes { get; private set; }

    public long ShardsReceived => DataShardsReceived + ParityShardsReceived;

    /// <summary>Packets dropped for <paramref name="reason"/> (one of the drop values of <see cref="FecDecodeResult"/>).</summary>
    public long GetDropCount(FecDecodeResult reason) => _drops[(int)reason];

    public long TotalDrops
    {
        get
        {
            long total = 0;
            foreach (var d in _drops)
            {
                total += d;
            }

            return total;
        }
    }

    /// <summary>
    /// Handles one FEC packet (from its seqid on, cipher header already removed).
    /// </summary>
    public FecDecodeResult Decode<TSink>(ReadOnlySpan<byte> packet, uint current, ref TSink sink)
        where TSink : IFecSink, allows ref struct
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (packet.Length < FecPacket.HeaderSize)
        {
            return Drop(FecDecodeResult.Truncated);
        }

        var seqid = BinaryPrimitives.ReadUInt32LittleEndian(packet);
        var flag = BinaryPrimitives.ReadUInt16LittleEndian(packet[4..]);
        var isData = flag == FecPacket.TypeData;
        if (!isData && flag != FecPacket.TypeParity)
        {
            return Drop(FecDecodeResult.BadFlag);
        }

        var shard = packet[FecPacket.HeaderSize..];
        if (shard.Length > _maxShardLength)
        {
            return Drop(FecDecodeResult.Oversize);
        }

        var size = 0;
        if (isData)
        {
            if (shard.Length < 2)
            {
                return Drop(FecDecodeResult.Truncated);
            }

            size = BinaryPrimitives.ReadUInt16LittleEndian(shard);
            if (size < 2 || size > shard.Length)
            {
                return Drop(FecDecodeResult.BadSize);
            }

            DataShardsReceived++;
        }
        else
        {
            if (shard.Length < 2)
            {
                return Drop(FecDecodeResult.Truncated);
            }

            ParityShardsReceived++;
        }

        AutoTune(isData, seqid);

        var total = DataShards + ParityShards;
        var index = (int)(seqid % (uint)total);
        if (!isData && index < DataShards)
        {
            return Drop(FecDecodeResult.Misplaced);
        }

        Expire(current);
        var group = FindGroup(seqid - (uint)index, current);
        if (group is null || (isData && index >= DataShards))
        {
            // Outside the window, or a data flag where parity belongs: KCP still gets the bytes.
            if (isData)
            {
                DataOutsideWindow++;
                sink.OnKcpPayload(shard[2..size], recovered: false);
                return FecDecodeResult.Data;
            }

            return Drop(FecDecodeResult.Stale);
        }

        if (group.Present[index])
        {
            return Drop(FecDecodeResult.Duplicate);
        }

        if (group.Done)
        {
            // Only parity can be unseen in a finished group (every data shard was delivered).
            group.Present[index] = true;
            return FecDecodeResult.Parity;
        }

        if (!isData && (group.ParityLength >= 0 ? shard.Length != group.ParityLength : shard.Length < group.MaxDataLength))
        {
            return Drop(FecDecodeResult.LengthMismatch);
        }

        group.Present[index] = true;
        if (isData)
        {
            sink.OnKcpPayload(shard[2..size], recovered: false);
            if (group.ParityLength >= 0 && shard.Length > group.ParityLength)
            {
                // The group's parity cannot be right for this shard: give up FEC on the group.
                _drops[(int)FecDecodeResult.LengthMismatch]++;
                MarkDone(group);
                return FecDecodeResult.Data;
            }
        }

        var buffer = BufferPool.Rent(_maxShardLength);
        if (ReceiveBudget is { } budget && !budget.TryHold(buffer.Length))
        {
            BufferPool.Return(buffer);
            ShardsOverBudget++;
            return isData ? FecDecodeResult.Data : FecDecodeResult.Parity;
        }

        shard.CopyTo(buffer);
        group.Shards[index] = buffer;
        group.Lengths[index] = shard.Length;
        group.Count++;
        if (isData)
        {
            group.DataCount++;
            group.MaxDataLength = Math.Max(group.MaxDataLength, shard.Length);
        }
        else
        {
            group.ParityLength = shard.Length;
        }

        if (group.DataCount == DataShards)
        {
            MarkDone(group);
        }
        else if (group.Count >= DataShards)
        {
            Reconstruct(group, ref sink);
            return FecDecodeResult.Recovered;
        }

        return isData ? FecDecodeResult.Data : FecDecodeResult.Parity;
    }

    private void Reconstruct<TSink>(FecGroup group, ref TSink sink)
        where TSink : IFecSink, allows ref struct
    {
        var length = group.ParityLength;
        var present = _presentScratch;
        for (var i = 0; i < group.Shards.Length; i++)
        {
            present[i] = group.Shards[i] is not null;
            if (present[i])
            {
                // kcp-go zero-pads short data shards to the group's length, as the sender did.
                group.Shards[i].AsSpan(group.Lengths[i], length - group.Lengths[i]).Clear();
            }
            else if (i < DataShards)
            {
                group.Shards[i] = BufferPool.Rent(_maxShardLength);
            }
        }

        _codec.ReconstructData(group.Shards!, present, 0, length);
        for (var d = 0; d < DataShards; d++)
        {
            if (present[d])
            {
                continue;
            }

            var rebuilt = group.Shards[d].AsSpan(0, length);
            var size = BinaryPrimitives.ReadUInt16LittleEndian(rebuilt);
            group.Present[d] = true;
            if (size >= 2 && size <= length)
            {
                Recovered++;
                sink.OnKcpPayload(rebuilt[2..size], recovered: true);
            }
            else
            {
                FailedReconstructs++;
            }

            // Rented for the rebuild only (never charged to the budget): back at once.
            BufferPool.Return(group.Shards[d]!);
            group.Shards[d] = null;
        }

        MarkDone(group);
    }

    private void MarkDone(FecGroup group)
    {
        group.Done = true;
        group.ReleaseBuffers(BufferPool, ReceiveBudget);
    }

    private FecGroup? FindGroup(uint start, uint now)
    {
        foreach (var g in _groups)
        {
            if (g.InUse && g.Start == start)
            {
                _outsideStreak = 0;
                return g;
            }
        }

        var span = (long)FecPacket.RxGroups * (DataShards + ParityShards);
        if (_hasNewest)
        {
            var ahead = (int)(start - _newest);
            if (ahead <= 0)
            {
                if (-(long)ahead < span)
                {
                    // Inside the window but evicted earlier (or never opened): a late shard; open it anew.
                    _outsideStreak = 0;
                    return Open(start, now);
                }

                if (++_outsideStreak < 4 * (DataShards + ParityShards))
                {
                    return null;
                }

                // A long run far from the window: the window is the outlier (e.g. a forged seqid), not the traffic.
                CloseAll();
            }
        }

        _outsideStreak = 0;
        _newest = start;
        _hasNewest = true;
        foreach (var g in _groups)
        {
            if (g.InUse && (long)(uint)(_newest - g.Start) >= span)
            {
                Evict(g);
            }
        }

        return Open(start, now);
    }

    private FecGroup Open(uint start, uint now)
    {
        FecGroup? free = null;
        FecGroup? oldest = null;
        foreach (var g in _groups)
        {
            if (!g.InUse)
            {
                free ??= g;
            }
            else if (oldest is null || (int)(g.Start - oldest.Start) < 0)
            {
                oldest = g;
            }
        }

        if (free is null)
        {
            Evict(oldest!);
            free = oldest!;
        }

        free.Open(start, now);
        return free;
    }

    private void Evict(FecGroup group)
    {
        if (!group.Done && group.DataCount < DataShards)
        {
            ShortGroups++;
        }

        group.Close(BufferPool, ReceiveBudget);
    }

    private void Expire(uint now)
    {
        foreach (var g in _groups)
        {
            if (g.InUse && now - g.FirstSeenMs > FecPacket.ExpireMs && (int)(now - g.FirstSeenMs) > 0)
            {
                Evict(g);
            }
        }
    }

    private void AutoTune(bool isData, uint seqid)
    {
        _autoTune.Sample(isData, seqid);
        var expectData = seqid % (uint)(DataShards + ParityShards) < (uint)DataShards;
        if (expectData == isData)
        {
            return;
        }

        var ds = _autoTune.FindPeriod(true);
        var ps = _autoTune.FindPeriod(false);
        if (ds > 0 && ps > 0 && ds + ps <= ReedSolomon.MaxTotalShards && (ds != DataShards || ps != ParityShards)
            && _codecs.TryAcquire(ds, ps, out var codec))
        {
            // A shape the loop has no room for is not taken: the groups stay as they are (KCP still gets
            // every data shard; only recovery suffers until the shape is granted).
            CloseAll();
            _codecs.Release(_codec);
            Configure(codec!);
            Retunes++;
        }
    }

    private void Configure(ReedSolomon codec)
    {
        _codec = codec;
        DataShards = codec.DataShards;
        ParityShards = codec.ParityShards;
        var total = DataShards + ParityShards;
        _groups = new FecGroup[FecPacket.RxGroups];
        for (var i = 0; i < _groups.Length; i++)
        {
            _groups[i] = new FecGroup(total);
        }

        _presentScratch = new bool[total];
        _hasNewest = false;
        _outsideStreak = 0;
    }

    private void CloseAll()
    {
        foreach (var g in _groups)
        {
            if (g.InUse)
            {
                Evict(g);
            }
        }

        _hasNewest = false;
    }

    private FecDecodeResult Drop(FecDecodeResult reason)
    {
        _drops[(int)reason]++;
        return reason;
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        ReleaseHeld();
        _codecs.Release(_codec);
    }

    /// <summary>Drops every group held (their shards' bytes go back to the budget); the decoder stays usable.</summary>
    public void ReleaseHeld()
    {
        foreach (var g in _groups)
        {
            g.Close(BufferPool, ReceiveBudget);
        }

        _hasNewest = false;
    }
}
