using System.Buffers;

namespace KcpKestrel.Multicast.Fec;

/// <summary>
/// One FEC group being collected at a subscriber: the shards received so far (pooled buffers, each
/// shard from offset 0), which are present, and the parity length. Returned to the pool when the group
/// is complete, rebuilt, or replaced by a newer group.
/// </summary>
internal sealed class FecGroupSlot(int totalShards)
{
    public readonly byte[]?[] Shards = new byte[totalShards][];
    public readonly bool[] Present = new bool[totalShards];

    public ulong First;
    public bool InUse;
    public bool Done;
    public int Count;
    public int DataCount;
    public int ParityLength;

    public void Open(ulong first)
    {
        First = first;
        InUse = true;
        Done = false;
        Count = 0;
        DataCount = 0;
        ParityLength = -1;
        Array.Clear(Present);
    }

    /// <summary>Gives the buffers back; the slot still remembers its group (and that it is done).</summary>
    public void Release(ArrayPool<byte> pool)
    {
        for (var i = 0; i < Shards.Length; i++)
        {
            if (Shards[i] is { } shard)
            {
                pool.Return(shard);
                Shards[i] = null;
            }
        }
    }
}
