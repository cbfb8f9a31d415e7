using System.Buffers;
using KcpKestrel.Core.Arq;

namespace KcpKestrel.Core.Fec;

/// <summary>One FEC group being received: the shards of seqids [Start, Start + dataShards + parityShards).</summary>
internal sealed class FecGroup
{
    public FecGroup(int totalShards)
    {
        Shards = new byte[totalShards][];
        Present = new bool[totalShards];
        Lengths = new int[totalShards];
    }

    public bool InUse { get; set; }

    /// <summary>Every data shard was delivered (received or recovered): buffers are released, only seen-flags remain.</summary>
    public bool Done { get; set; }

    public uint Start { get; set; }

    public uint FirstSeenMs { get; set; }

    /// <summary>Shard buffers (rented) at shard index; null when not held.</summary>
    public byte[]?[] Shards { get; }

    /// <summary>Seen (received or recovered) at shard index.</summary>
    public bool[] Present { get; }

    public int[] Lengths { get; }

    public int Count { get; set; }

    public int DataCount { get; set; }

    /// <summary>Length of the group's parity shards (all equal), -1 until one arrives.</summary>
    public int ParityLength { get; set; }

    public int MaxDataLength { get; set; }

    public void Open(uint start, uint now)
    {
        InUse = true;
        Done = false;
        Start = start;
        FirstSeenMs = now;
        Count = 0;
        DataCount = 0;
        ParityLength = -1;
        MaxDataLength = 0;
        Array.Clear(Present);
    }

    /// <summary>Returns the shard buffers; the received ones' bytes go back to <paramref name="budget"/>.</summary>
    public void ReleaseBuffers(ArrayPool<byte> pool, IReceiveBudget? budget)
    {
        for (var i = 0; i < Shards.Length; i++)
        {
            if (Shards[i] is { } buffer)
            {
                budget?.Release(buffer.Length);
                pool.Return(buffer);
                Shards[i] = null;
            }
        }
    }

    public void Close(ArrayPool<byte> pool, IReceiveBudget? budget)
    {
        ReleaseBuffers(pool, budget);
        InUse = false;
        Done = false;
    }
}
