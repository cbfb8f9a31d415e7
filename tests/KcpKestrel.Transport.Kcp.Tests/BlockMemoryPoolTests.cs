using System.Runtime.InteropServices;
using KcpKestrel.Transport.Kcp.Buffers;

namespace KcpKestrel.Transport.Kcp.Tests;

public sealed class BlockMemoryPoolTests
{
    [Fact]
    public void ReturnedBlock_IsRentedAgain()
    {
        using var pool = new BlockMemoryPool();
        var first = pool.Rent();
        Assert.Equal(BlockMemoryPool.BlockSize, first.Memory.Length);
        Assert.True(MemoryMarshal.TryGetArray<byte>(first.Memory, out var firstArray));
        first.Dispose();
        Assert.Equal(1, pool.Retained);

        using var second = pool.Rent(100);
        Assert.True(MemoryMarshal.TryGetArray<byte>(second.Memory, out var secondArray));
        Assert.Same(firstArray.Array, secondArray.Array);
        Assert.Equal(0, pool.Retained);
    }

    [Fact]
    public void Stock_IsCapped()
    {
        using var pool = new BlockMemoryPool(maxRetainedBlocks: 2);
        var blocks = new[] { pool.Rent(), pool.Rent(), pool.Rent() };
        foreach (var block in blocks)
        {
            block.Dispose();
        }

        Assert.Equal(2, pool.Retained);
    }

    [Fact]
    public void MoreThanABlock_IsRefused_AndADisposedPoolStillServes()
    {
        var pool = new BlockMemoryPool();
        Assert.Throws<ArgumentOutOfRangeException>(() => pool.Rent(BlockMemoryPool.BlockSize + 1));
        var held = pool.Rent();
        pool.Dispose();

        // A connection that outlives the pool keeps working; what it returns is left to the GC.
        using var late = pool.Rent();
        Assert.Equal(BlockMemoryPool.BlockSize, late.Memory.Length);
        held.Dispose();
        Assert.Equal(0, pool.Retained);
    }
}
