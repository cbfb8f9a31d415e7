using KcpKestrel.Core.Arq;
using KcpKestrel.Core.Fec;
using KcpKestrel.Core.Tests.Arq;
using KcpKestrel.Core.Tests.Fec;

namespace KcpKestrel.Core.Tests.Buffers;

/// <summary>The engine and FEC take their buffers from the pool they are given (a transport's per-loop pool) and return every one.</summary>
public sealed class BufferPoolTests
{
    [Fact]
    public void Kcp_RentsSegmentsFromItsPool_AndReturnsAllOfThem()
    {
        var pool = new CountingArrayPool();
        var ao = new CapturingOutput();
        var bo = new CapturingOutput();
        var a = new KcpControlBlock(1, ao) { BufferPool = pool };
        var b = new KcpControlBlock(1, bo) { BufferPool = pool };
        a.SetWindowSize(128, 128);
        b.SetWindowSize(128, 128);
        var message = new byte[20_000];
        Assert.Equal(message.Length, a.Send(message));
        a.Send(new byte[10]);

        // Deliver the first half, so both sides hold segments (a's unacknowledged, b's undelivered) when disposed.
        a.FlushAt(0);
        var wire = ao.Take();
        foreach (var d in wire.Take(wire.Count / 2))
        {
            Assert.Equal(KcpInputResult.Ok, b.Input(d, 0));
        }

        Assert.True(pool.Rents > 0);
        Assert.True(pool.Outstanding > 0);
        a.Dispose();
        b.Dispose();
        Assert.Equal(0, pool.Outstanding);
        Assert.Equal(0, pool.ForeignReturns);
    }

    [Fact]
    public void Fec_RentsShardsFromItsPool_AndReturnsAllOfThem()
    {
        var pool = new CountingArrayPool();
        var encoder = new FecEncoder(3, 2, 0) { BufferPool = pool };
        var decoder = new FecDecoder(3, 2) { BufferPool = pool };
        var sink = new CollectingSink();
        var rng = new Random(5);

        // Four full groups and a partial one; the second shard of every group is lost, so groups recover from parity.
        for (var i = 0; i < 14; i++)
        {
            var packet = new byte[FecPacket.MtuLimit];
            rng.NextBytes(packet.AsSpan(8, 100));
            var kcpLength = 24 + i;
            var ready = encoder.Encode(packet, 8 + kcpLength, 0);
            if (i % 3 != 1)
            {
                decoder.Decode(packet.AsSpan(0, 8 + kcpLength), 0, ref sink);
            }

            for (var p = 0; p < ready; p++)
            {
                decoder.Decode(encoder.GetParityPacket(p, out var length)[..length], 0, ref sink);
            }
        }

        Assert.Equal(4, decoder.Recovered);
        Assert.True(pool.Rents > 0);
        encoder.Dispose();
        decoder.Dispose();
        Assert.Equal(0, pool.Outstanding);
        Assert.Equal(0, pool.ForeignReturns);
    }
}
