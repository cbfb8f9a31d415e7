using System.Buffers.Binary;
using CsCheck;
using KcpKestrel.Transport.UserTcp.Packets;

namespace KcpKestrel.Transport.UserTcp.Tests.Packets;

public sealed class InternetChecksumTests
{
    /// <summary>RFC 1071 as written: network-order 16-bit words, end-around carry, an odd byte padded with zero.</summary>
    private static ushort ReferenceSum(ReadOnlySpan<byte> data)
    {
        uint sum = 0;
        int i = 0;
        for (; i + 1 < data.Length; i += 2)
        {
            sum += (uint)((data[i] << 8) | data[i + 1]);
            sum = (sum & 0xFFFF) + (sum >> 16);
        }

        if (i < data.Length)
        {
            sum += (uint)(data[i] << 8);
            sum = (sum & 0xFFFF) + (sum >> 16);
        }

        return (ushort)sum;
    }

    [Fact]
    public void RandomData_MatchesTheScalarReference()
    {
        Gen.Byte.Array[0, 9000].Sample(data => Assert.Equal(ReferenceSum(data), InternetChecksum.Sum(data)), iter: 2000);
    }

    [Fact]
    public void RandomSlices_AtAnyAlignment_MatchTheScalarReference()
    {
        Gen.Select(Gen.Byte.Array[0, 9000], Gen.Int[0, 63]).Sample((data, skip) =>
        {
            var slice = data.AsSpan(Math.Min(skip, data.Length));
            Assert.Equal(ReferenceSum(slice), InternetChecksum.Sum(slice));
        }, iter: 1000);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(31)]
    [InlineData(33)]
    [InlineData(127)]
    [InlineData(1500)]
    [InlineData(8999)]
    [InlineData(65535)]
    [InlineData(1 << 20)]
    public void AllOnes_AndAllZeros_MatchTheReference(int length)
    {
        var ones = new byte[length];
        Array.Fill(ones, (byte)0xFF);
        Assert.Equal(ReferenceSum(ones), InternetChecksum.Sum(ones));
        Assert.Equal(0, InternetChecksum.Sum(new byte[length]));
    }

    [Fact]
    public void Rfc1071Example_SumsTo_ddf2()
    {
        // RFC 1071 §3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2.
        Assert.Equal(0xDDF2, InternetChecksum.Sum([0x00, 0x01, 0xF2, 0x03, 0xF4, 0xF5, 0xF6, 0xF7]));
    }

    [Fact]
    public void KnownIPv4Header_Verifies_AndRecomputes()
    {
        // A real header (Wikipedia's IPv4 checksum example): checksum b861.
        byte[] header = [0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xB8, 0x61, 0xC0, 0xA8, 0x00, 0x01, 0xC0, 0xA8, 0x00, 0xC7];
        Assert.True(InternetChecksum.IsValid(header));
        header[10] = header[11] = 0;
        Assert.Equal(0xB861, InternetChecksum.Checksum(header));
    }

    [Fact]
    public void PseudoHeaderSums_MatchTheReferenceOverTheWrittenPseudoHeader()
    {
        Gen.Select(Gen.Byte.Array[16], Gen.Byte.Array[16], Gen.Int[0, 65535]).Sample((src, dst, length) =>
        {
            var v4 = new byte[12];
            src.AsSpan(0, 4).CopyTo(v4);
            dst.AsSpan(0, 4).CopyTo(v4.AsSpan(4));
            v4[9] = 6;
            BinaryPrimitives.WriteUInt16BigEndian(v4.AsSpan(10), (ushort)length);
            Assert.Equal(ReferenceSum(v4), InternetChecksum.PseudoHeaderSumIPv4(src, dst, 6, length));

            var v6 = new byte[40];
            src.CopyTo(v6, 0);
            dst.CopyTo(v6, 16);
            BinaryPrimitives.WriteUInt32BigEndian(v6.AsSpan(32), (uint)length);
            v6[39] = 6;
            Assert.Equal(ReferenceSum(v6), InternetChecksum.PseudoHeaderSumIPv6(src, dst, 6, length));
        });
    }

    [Fact]
    public void TcpChecksum_WrittenIntoTheSegment_Verifies()
    {
        Gen.Select(Gen.Byte.Array[4], Gen.Byte.Array[4], Gen.Byte.Array[20, 3000]).Sample((src, dst, segment) =>
        {
            segment[16] = segment[17] = 0;
            ushort pseudo = InternetChecksum.PseudoHeaderSumIPv4(src, dst, 6, segment.Length);
            BinaryPrimitives.WriteUInt16BigEndian(segment.AsSpan(16), InternetChecksum.TcpChecksum(pseudo, segment));
            Assert.True(InternetChecksum.IsTcpValid(pseudo, segment));
            segment[^1] ^= 0x40;
            Assert.False(InternetChecksum.IsTcpValid(pseudo, segment));
        });
    }

    [Fact]
    public void Sum_AllocatesNothing()
    {
        var data = new byte[65536];
        Random.Shared.NextBytes(data);
        ushort sink = InternetChecksum.Sum(data);
        var allocated = SteadyStateAllocations.Measure(() =>
        {
            for (int i = 0; i < 1000; i++)
            {
                sink ^= InternetChecksum.Sum(data.AsSpan(i % 7, 1500));
                sink ^= InternetChecksum.PseudoHeaderSumIPv6(data, data.AsSpan(16), 6, 1500);
            }
        });

        Assert.Equal(0, allocated);
        GC.KeepAlive(sink);
    }
}
