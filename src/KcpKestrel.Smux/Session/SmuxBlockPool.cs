using System.Buffers;
using System.Collections.Concurrent;

namespace KcpKestrel.Smux.Session;

/// <summary>
/// The 4 KiB blocks behind every stream's pipes, process-wide. With many streams buffering at once, more blocks are out
/// than ArrayPool.Shared keeps per size (a few dozen per core), so every block past that was a new array for the GC:
/// 16 concurrent streams allocated as many bytes as they moved. This pool keeps up to <see cref="MaxRetained"/> blocks
/// (16 MiB), pinned (sockets and KCP copy out of them); past that a returned block is left to the GC.
/// </summary>
internal sealed class SmuxBlockPool : MemoryPool<byte>
{
    public const int BlockSize = 4096;

    public const int MaxRetained = 4096;

    private readonly ConcurrentQueue<Block> _free = new();
    private int _retained;

    public static new SmuxBlockPool Shared { get; } = new();

    public override int MaxBufferSize => BlockSize;

    /// <summary>Bytes held in free blocks (at most <see cref="MaxRetained"/> blocks).</summary>
    public long RetainedBytes => (long)Volatile.Read(ref _retained) * BlockSize;

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minBufferSize, BlockSize);
        if (_free.TryDequeue(out var block))
        {
            Interlocked.Decrement(ref _retained);
            block.Rented = true;
            return block;
        }

        return new Block(this);
    }

    protected override void Dispose(bool disposing)
    {
        // Shared for the process: never disposed.
    }

    private void Return(Block block)
    {
        if (Interlocked.Increment(ref _retained) <= MaxRetained)
        {
            _free.Enqueue(block);
        }
        else
        {
            Interlocked.Decrement(ref _retained);
        }
    }

    private sealed class Block(SmuxBlockPool pool) : IMemoryOwner<byte>
    {
        private readonly byte[] _array = GC.AllocateUninitializedArray<byte>(BlockSize, pinned: true);

        public bool Rented { get; set; } = true;

        public Memory<byte> Memory => _array;

        public void Dispose()
        {
            // A pipe returns a block once; the flag keeps a second Dispose from handing it out twice.
            if (Rented)
            {
                Rented = false;
                pool.Return(this);
            }
        }
    }
}
