using System.Buffers.Binary;
using KcpKestrel.Core.Fec;

namespace KcpKestrel.Core.Tests.Fec;

public sealed class FecEncoderTests
{
    public static TheoryData<string> Kernels => FecTestData.SupportedKernels();

    [Theory]
    [MemberData(nameof(Kernels))]
    public void Encoder_ProducesKcpGoDatagramsByteForByte(string kernelName)
    {
        var cases = FecTestData.KcpGoPackets();
        Assert.Equal(2, cases.Count);
        foreach (var (k, m, packets) in cases)
        {
            using var encoder = new FecEncoder(k, m, 0, FecPacket.MtuLimit, FecTestData.Kernel(kernelName));
            var parityChecked = 0;
            var i = 0;
            while (i < packets.Count)
            {
                var expected = packets[i++];
                Assert.Equal(FecPacket.TypeData, BinaryPrimitives.ReadUInt16LittleEndian(expected.AsSpan(4)));
                var buffer = new byte[FecPacket.MtuLimit];
                expected.AsSpan(FecPacket.HeaderSizePlusSize).CopyTo(buffer.AsSpan(FecPacket.HeaderSizePlusSize));
                var ready = encoder.Encode(buffer, expected.Length, 0);
                Assert.Equal(expected, buffer.AsSpan(0, expected.Length).ToArray());
                for (var p = 0; p < ready && i < packets.Count; p++)
                {
                    var parity = encoder.GetParityPacket(p, out var length);
                    Assert.Equal(packets[i++], parity.ToArray());
                    Assert.Equal(length, parity.Length);
                    parityChecked++;
                }
            }

            Assert.True(parityChecked >= 2 * m, $"{k}+{m}: only {parityChecked} parity packets compared");
        }
    }

    [Fact]
    public void Encoder_LeavesHeaderOffsetFree_AndNumbersDataAndParityFromOneCounter()
    {
        const int offset = 20;
        using var encoder = new FecEncoder(2, 2, offset);
        var a = new byte[100];
        var b = new byte[100];
        Assert.Equal(0, encoder.Encode(a, offset + 8 + 30, 0));
        Assert.Equal(2, encoder.Encode(b, offset + 8 + 50, 0));
        Assert.All(a.AsSpan(0, offset).ToArray(), x => Assert.Equal(0, x));
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(a.AsSpan(offset)));
        Assert.Equal(32, BinaryPrimitives.ReadUInt16LittleEndian(a.AsSpan(offset + 6)));
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(offset)));
        for (var p = 0; p < 2; p++)
        {
            var parity = encoder.GetParityPacket(p, out var length);
            Assert.Equal(offset + 8 + 50, length);
            Assert.Equal((uint)(2 + p), BinaryPrimitives.ReadUInt32LittleEndian(parity[offset..]));
            Assert.Equal(FecPacket.TypeParity, BinaryPrimitives.ReadUInt16LittleEndian(parity[(offset + 4)..]));
        }

        Assert.Equal(4u, encoder.NextSeqId);
    }

    [Fact]
    public void NonContinuousGroup_SkipsParity_ButAdvancesSeqid()
    {
        using var encoder = new FecEncoder(2, 1, 0);
        var packet = new byte[64];
        Assert.Equal(0, encoder.Encode(packet, 40, 1000, rto: 50));
        Assert.Equal(1, encoder.Encode(packet, 40, 1010, rto: 50));
        Assert.Equal(0, encoder.Encode(packet, 40, 2000, rto: 50));
        Assert.Equal(0, encoder.Encode(packet, 40, 3000, rto: 50));
        Assert.Equal(1, encoder.ParitySkippedGroups);
        Assert.Equal(6u, encoder.NextSeqId);
        Assert.Equal(0, encoder.Encode(packet, 40, 3001, rto: 50));
        Assert.Equal(6u, BinaryPrimitives.ReadUInt32LittleEndian(packet));
    }

    [Fact]
    public void Seqid_AfterTheLastWholeGroup_WrapsToZero()
    {
        using var encoder = new FecEncoder(10, 3, 0);
        var paws = uint.MaxValue / 13 * 13;
        encoder.NextSeqId = paws - 13;
        var packet = new byte[64];
        for (var i = 0; i < 10; i++)
        {
            encoder.Encode(packet, 40, 0);
        }

        Assert.Equal(paws - 1, BinaryPrimitives.ReadUInt32LittleEndian(encoder.GetParityPacket(2, out _)));
        Assert.Equal(0u, encoder.NextSeqId);
    }

    [Fact]
    public void PacketsShorterThanTheHeaderOrOverTheMtu_AreRejected()
    {
        using var encoder = new FecEncoder(3, 1, 4);
        var packet = new byte[2000];
        Assert.Throws<ArgumentOutOfRangeException>(() => encoder.Encode(packet, 4 + 7, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => encoder.Encode(packet, 1501, 0));
    }
}
