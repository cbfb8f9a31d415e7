using System.Buffers;
using System.Collections.Concurrent;

namespace KcpKestrel.Transport.Kcp.Buffers;

/// <summary>
/// Fixed 4 KiB blocks for the connections' pipes, recycled through a lock-free queue, as Kestrel's own
/// pinned-block pool does. Used where the host offers no <c>IMemoryPoolFactory&lt;byte&gt;</c> (the
/// client, a factory built by hand). <see cref="MemoryPool{T}.Shared"/> is no substitute: it rents from
/// the shared array pool, whose few arrays per core thousands of busy pipes outrun, so most rents
/// become new arrays for the GC. The stock is capped; blocks returned past the cap are left to the GC.
/// </summary>
internal sealed class BlockMemoryPool : MemoryPool<byte>
{
    public const int BlockSize = 4096;

    private readonly ConcurrentQueue<Block> _blocks = new();
    private readonly int _maxRetained;
    private int _retained;
    private volatile bool _disposed;

    public BlockMemoryPool(int maxRetainedBlocks = 4096)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxRetainedBlocks);
        _maxRetained = maxRetainedBlocks;
    }

    public override int MaxBufferSize => BlockSize;

    /// <summary>Blocks waiting in the pool (for tests and diagnostics).</summary>
    internal int Retained => Volatile.Read(ref _retained);

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        // A pipe asks for at most MaxBufferSize and goes elsewhere for more.
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minBufferSize, BlockSize);
        if (_blocks.TryDequeue(out var block))
        {
            Interlocked.Decrement(ref _retained);
            return block;
        }

        return new Block(this);
    }

    private void Return(Block block)
    {
        if (_disposed)
        {
            return;
        }

        if (Interlocked.Increment(ref _retained) > _maxRetained)
        {
            Interlocked.Decrement(ref _retained);
            return;
        }

        _blocks.Enqueue(block);
    }

    // A connection that outlives its pool still works: it rents new blocks, and they go to the GC.
    protected override void Dispose(bool disposing)
    {
        _disposed = true;
        _blocks.Clear();
    }

    private sealed class Block(BlockMemoryPool pool) : IMemoryOwner<byte>
    {
        public Memory<byte> Memory { get; } = GC.AllocateUninitializedArray<byte>(BlockSize);

        public void Dispose() => pool.Return(this);
    }
}
