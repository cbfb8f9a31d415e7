using KcpKestrel.Core.Fec;
using KcpKestrel.Core.Tests.Arq;

namespace KcpKestrel.Core.Tests.Fec;

/// <summary>Codecs shared between the decoders of one loop, with one bounded decode-matrix cache.</summary>
public sealed class FecCodecCacheTests
{
    [Fact]
    public void Decoders_OnOneCache_ShareOneCodecPerShape()
    {
        var cache = new FecCodecCache();
        using (var a = new FecDecoder(10, 3, cache))
        using (var b = new FecDecoder(10, 3, cache))
        using (var c = new FecDecoder(4, 2, cache))
        {
            Assert.Equal(2, cache.Shapes);
        }

        // Unused codecs stay until room is needed.
        Assert.Equal(2, cache.Shapes);
    }

    [Fact]
    public void PeerShapes_BeyondMaxShapesInUse_AreRefused_ConfiguredShapeNever()
    {
        var cache = new FecCodecCache();
        for (var k = 1; k <= FecCodecCache.MaxShapes; k++)
        {
            Assert.True(cache.TryAcquire(k, 1, out _));
        }

        Assert.False(cache.TryAcquire(100, 1, out _));
        Assert.True(cache.TryAcquire(10, 3, out var configured, required: true));
        Assert.NotNull(configured);

        // A shape no decoder uses any more makes room.
        Assert.True(cache.TryAcquire(1, 1, out var first));
        cache.Release(first!);
        cache.Release(first!);
        Assert.True(cache.TryAcquire(100, 1, out _));
    }

    [Fact]
    public void DecodeMatrices_ManyLossPatterns_StayWithinTheSharedBudget()
    {
        const int K = 20, M = 10;
        const long Budget = 64 * 1024;
        var cache = new FecCodecCache(Budget);
        using var decoder = new FecDecoder(K, M, cache);
        using var encoder = new FecEncoder(K, M, 0);
        var rng = new Random(5);
        var sink = new CollectingSink();
        var sent = 0;
        for (var g = 0; g < 200; g++)
        {
            var wire = new List<byte[]>();
            for (var i = 0; i < K; i++)
            {
                var packet = new byte[FecPacket.MtuLimit];
                rng.NextBytes(packet.AsSpan(8, 100));
                var ready = encoder.Encode(packet, 108, 0);
                wire.Add(packet.AsSpan(0, 108).ToArray());
                sent++;
                for (var p = 0; p < ready; p++)
                {
                    wire.Add(encoder.GetParityPacket(p, out _).ToArray());
                }
            }

            // A different set of lost data shards in every group: a new decode matrix each time.
            var lost = Enumerable.Range(0, K).OrderBy(_ => rng.Next()).Take(rng.Next(1, M + 1)).ToHashSet();
            for (var i = 0; i < wire.Count; i++)
            {
                if (!lost.Contains(i))
                {
                    decoder.Decode(wire[i], (uint)g, ref sink);
                    Assert.InRange(cache.DecodeCacheBytes, 0, Budget);
                }
            }
        }

        Assert.Equal(sent, sink.Payloads.Count);
    }

    [Fact]
    public void Shards_OverTheReceiveBudget_AreNotKept_ButDataStillReachesKcp()
    {
        var budget = new TestReceiveBudget(2048);
        using var decoder = new FecDecoder(3, 2, new FecCodecCache()) { ReceiveBudget = budget };
        using var encoder = new FecEncoder(3, 2, 0);
        var sink = new CollectingSink();
        for (var i = 0; i < 3; i++)
        {
            var packet = new byte[FecPacket.MtuLimit];
            packet[8] = (byte)i;
            encoder.Encode(packet, 108, 0);
            decoder.Decode(packet.AsSpan(0, 108), 0, ref sink);
        }

        Assert.Equal(3, sink.Payloads.Count);
        Assert.True(decoder.ShardsOverBudget >= 2);
        Assert.InRange(budget.Held, 0, 2048);
        decoder.ReleaseHeld();
        Assert.Equal(0, budget.Held);
    }
}
