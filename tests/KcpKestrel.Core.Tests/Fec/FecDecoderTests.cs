using System.Buffers.Binary;
using CsCheck;
using KcpKestrel.Core.Fec;

namespace KcpKestrel.Core.Tests.Fec;

public sealed class FecDecoderTests
{
    [Fact]
    public void KcpGoParity_RecoversKcpGoDataShards()
    {
        foreach (var (k, m, packets) in FecTestData.KcpGoPackets())
        {
            var n = k + m;
            var whole = packets.Count / n * n;
            using var decoder = new FecDecoder(k, m);
            var sink = new CollectingSink();
            var expected = new List<string>();
            for (var i = 0; i < whole; i++)
            {
                var index = i % n;
                var group = i / n;
                if (index < k)
                {
                    expected.Add(Convert.ToHexString(packets[i].AsSpan(8)));
                }

                // Lose a different run of m shards in every group, data shards included.
                var lostStart = group % n;
                var lost = (index - lostStart + n) % n < m;
                if (!lost)
                {
                    decoder.Decode(packets[i], 0, ref sink);
                }
            }

            Assert.True(decoder.Recovered > 0);
            Assert.Equal(0, decoder.TotalDrops);
            Assert.Equal(expected.Order(), sink.Payloads.Select(Convert.ToHexString).Order());
        }
    }

    [Fact]
    public void LossyLink_AtMostMLossesPerGroup_DeliversEverythingOnce()
    {
        Gen.Select(Gen.Int[1, 12], Gen.Int[1, 4], Gen.Int[2, 8], Gen.UInt)
            .Sample((k, m, groups, seed) =>
            {
                var rng = new Random((int)seed);
                using var encoder = new FecEncoder(k, m, 0);
                using var decoder = new FecDecoder(k, m);
                var sent = new List<string>();
                var wire = new List<byte[]>();
                for (var i = 0; i < groups * k; i++)
                {
                    var kcpLength = rng.Next(24, 1400);
                    var packet = new byte[FecPacket.MtuLimit];
                    rng.NextBytes(packet.AsSpan(8, kcpLength));
                    sent.Add(Convert.ToHexString(packet.AsSpan(8, kcpLength)));
                    var ready = encoder.Encode(packet, 8 + kcpLength, 0);
                    wire.Add(packet.AsSpan(0, 8 + kcpLength).ToArray());
                    for (var p = 0; p < ready; p++)
                    {
                        wire.Add(encoder.GetParityPacket(p, out _).ToArray());
                    }
                }

                var n = k + m;
                var sink = new CollectingSink();
                for (var g = 0; g < groups; g++)
                {
                    var shards = wire.GetRange(g * n, n);
                    var lose = rng.Next(0, m + 1);
                    var order = Enumerable.Range(0, n).OrderBy(_ => rng.Next()).ToArray();
                    foreach (var i in order.Skip(lose))
                    {
                        decoder.Decode(shards[i], 0, ref sink);
                        if (rng.Next(8) == 0)
                        {
                            Assert.Equal(FecDecodeResult.Duplicate, decoder.Decode(shards[i], 0, ref sink));
                        }
                    }
                }

                Assert.Equal(sent.Order(), sink.Payloads.Select(Convert.ToHexString).Order());
            }, seed: "0N0XIzNsQ0O2", iter: 60, threads: 1);
    }

    [Fact]
    public void MalformedPackets_AreDroppedAndCounted()
    {
        using var decoder = new FecDecoder(2, 1);
        var sink = new CollectingSink();
        Assert.Equal(FecDecodeResult.Truncated, decoder.Decode([1, 2, 3], 0, ref sink));
        Assert.Equal(FecDecodeResult.BadFlag, decoder.Decode(Packet(0, 0x51, 10), 0, ref sink));
        Assert.Equal(FecDecodeResult.Truncated, decoder.Decode(Packet(0, FecPacket.TypeData, 1), 0, ref sink));
        var badSize = Packet(0, FecPacket.TypeData, 10);
        BinaryPrimitives.WriteUInt16LittleEndian(badSize.AsSpan(6), 11);
        Assert.Equal(FecDecodeResult.BadSize, decoder.Decode(badSize, 0, ref sink));
        BinaryPrimitives.WriteUInt16LittleEndian(badSize.AsSpan(6), 1);
        Assert.Equal(FecDecodeResult.BadSize, decoder.Decode(badSize, 0, ref sink));
        Assert.Equal(FecDecodeResult.Oversize, decoder.Decode(Packet(0, FecPacket.TypeData, 1495), 0, ref sink));
        Assert.Equal(FecDecodeResult.Truncated, decoder.Decode(Packet(2, FecPacket.TypeParity, 1), 0, ref sink));
        Assert.Equal(FecDecodeResult.Misplaced, decoder.Decode(Packet(0, FecPacket.TypeParity, 10), 0, ref sink));
        Assert.Empty(sink.Payloads);
        Assert.Equal(1, decoder.GetDropCount(FecDecodeResult.BadFlag));
        Assert.Equal(2, decoder.GetDropCount(FecDecodeResult.BadSize));
        Assert.Equal(3, decoder.GetDropCount(FecDecodeResult.Truncated));
    }

    [Fact]
    public void ParityOfDifferingLengthAndDuplicates_AreDropped()
    {
        using var decoder = new FecDecoder(3, 2);
        var sink = new CollectingSink();
        Assert.Equal(FecDecodeResult.Data, decoder.Decode(Packet(0, FecPacket.TypeData, 40), 0, ref sink));
        Assert.Equal(FecDecodeResult.Duplicate, decoder.Decode(Packet(0, FecPacket.TypeData, 40), 0, ref sink));
        Assert.Equal(FecDecodeResult.LengthMismatch, decoder.Decode(Packet(3, FecPacket.TypeParity, 30), 0, ref sink));
        Assert.Equal(FecDecodeResult.Parity, decoder.Decode(Packet(3, FecPacket.TypeParity, 50), 0, ref sink));
        Assert.Equal(FecDecodeResult.LengthMismatch, decoder.Decode(Packet(4, FecPacket.TypeParity, 51), 0, ref sink));
        Assert.Single(sink.Payloads);
    }

    [Fact]
    public void FarSeqids_DoNotBuffer_AndDataStillReachesKcp()
    {
        using var decoder = new FecDecoder(10, 3);
        var sink = new CollectingSink();
        Assert.Equal(FecDecodeResult.Data, decoder.Decode(Packet(1_000_000, FecPacket.TypeData, 40), 0, ref sink));
        Assert.Equal(FecDecodeResult.Stale, decoder.Decode(Packet(12, FecPacket.TypeParity, 40), 0, ref sink));
        Assert.Equal(FecDecodeResult.Data, decoder.Decode(Packet(1, FecPacket.TypeData, 40), 0, ref sink));
        Assert.Equal(2, sink.Payloads.Count);
        Assert.Equal(1, decoder.DataOutsideWindow);
    }

    [Fact]
    public void ForgedFarAheadSeqid_DoesNotDisableFecForGood()
    {
        using var encoder = new FecEncoder(4, 2, 0);
        using var decoder = new FecDecoder(4, 2);
        var sink = new CollectingSink();
        decoder.Decode(Packet(3_000_000_000, FecPacket.TypeData, 40), 0, ref sink);
        var wire = new List<byte[]>();
        for (var i = 0; i < 40; i++)
        {
            var packet = new byte[200];
            packet[8] = (byte)i;
            var ready = encoder.Encode(packet, 8 + 30, 0);
            wire.Add(packet.AsSpan(0, 38).ToArray());
            for (var p = 0; p < ready; p++)
            {
                wire.Add(encoder.GetParityPacket(p, out _).ToArray());
            }
        }

        for (var i = 0; i < wire.Count; i++)
        {
            if (i != wire.Count - 6)
            {
                decoder.Decode(wire[i], 0, ref sink);
            }
        }

        Assert.Equal(1, decoder.Recovered);
    }

    [Fact]
    public void StaleGroups_Expire_AndRandomGarbageNeverThrowsOrGrows()
    {
        using var decoder = new FecDecoder(10, 3);
        var sink = new CollectingSink();
        decoder.Decode(Packet(0, FecPacket.TypeData, 40), 0, ref sink);
        decoder.Decode(Packet(20, FecPacket.TypeData, 40), 70_000, ref sink);
        Assert.Equal(1, decoder.ShortGroups);

        Gen.Byte.Array[0, 1600].Sample(bytes =>
        {
            var s = new CollectingSink();
            var result = decoder.Decode(bytes, 5, ref s);
            Assert.True(Enum.IsDefined(result));
        }, seed: "0N0XIzNsQ0O2", iter: 3000, threads: 1);
    }

    [Fact]
    public void AutoTune_FollowsThePeerShape()
    {
        using var encoder = new FecEncoder(10, 3, 0);
        using var decoder = new FecDecoder(0, 0);
        Assert.Equal((1, 1), (decoder.DataShards, decoder.ParityShards));
        var sink = new CollectingSink();
        var recoveredBefore = 0L;
        for (var group = 0; group < 30; group++)
        {
            var shards = new List<byte[]>();
            for (var i = 0; i < 10; i++)
            {
                var packet = new byte[200];
                packet[8] = (byte)group;
                packet[9] = (byte)i;
                var ready = encoder.Encode(packet, 8 + 40 + i, 0);
                shards.Add(packet.AsSpan(0, 48 + i).ToArray());
                for (var p = 0; p < ready; p++)
                {
                    shards.Add(encoder.GetParityPacket(p, out _).ToArray());
                }
            }

            for (var i = 0; i < shards.Count; i++)
            {
                if (group < 25 || i != 4)
                {
                    decoder.Decode(shards[i], 0, ref sink);
                }
            }

            if (group == 24)
            {
                recoveredBefore = decoder.Recovered;
            }
        }

        Assert.Equal((10, 3), (decoder.DataShards, decoder.ParityShards));
        Assert.True(decoder.Retunes >= 1);
        Assert.Equal(5, decoder.Recovered - recoveredBefore);
        Assert.Equal(300, sink.Payloads.Select(Convert.ToHexString).Distinct().Count());
    }

    private static byte[] Packet(uint seqid, ushort flag, int shardLength)
    {
        var packet = new byte[FecPacket.HeaderSize + shardLength];
        BinaryPrimitives.WriteUInt32LittleEndian(packet, seqid);
        BinaryPrimitives.WriteUInt16LittleEndian(packet.AsSpan(4), flag);
        if (flag == FecPacket.TypeData && shardLength >= 2)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(packet.AsSpan(6), (ushort)shardLength);
        }

        return packet;
    }
}
