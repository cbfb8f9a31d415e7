using CsCheck;
using KcpKestrel.Transport.UserTcp.Packets;
using KcpKestrel.Transport.UserTcp.Tcp;

namespace KcpKestrel.Transport.UserTcp.Tests.Packets;

public sealed class TcpSegmentCodecTests
{
    private static byte[] Segment(TcpFlags flags, params byte[] options)
    {
        int headerLength = 20 + options.Length;
        var tcp = new byte[headerLength + 3];
        tcp[0] = 0x9C;
        tcp[1] = 0x40;
        tcp[2] = 0x1F;
        tcp[3] = 0x90;
        tcp[12] = (byte)((headerLength / 4) << 4);
        tcp[13] = (byte)flags;
        options.CopyTo(tcp, 20);
        tcp[^3] = 1;
        tcp[^2] = 2;
        tcp[^1] = 3;
        return tcp;
    }

    private static PacketDropReason Read(byte[] tcp, out TcpHeader header) =>
        TcpSegmentCodec.TryRead(tcp, out _, out _, out header, out _);

    [Fact]
    public void LinuxSyn_Reads_AllOptions()
    {
        // MSS 1460, SACK-OK + TS, NOP + WS 7: what Linux sends in a SYN.
        var tcp = Segment(TcpFlags.Syn, 2, 4, 0x05, 0xB4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7);
        Assert.Equal(PacketDropReason.None, TcpSegmentCodec.TryRead(tcp, out ushort src, out ushort dst, out var header, out var payload));
        Assert.Equal(40000, src);
        Assert.Equal(8080, dst);
        Assert.Equal(1460, header.Options.Mss);
        Assert.True(header.Options.SackPermitted);
        Assert.True(header.Options.HasTimestamps);
        Assert.Equal(1u, header.Options.TsVal);
        Assert.Equal(0u, header.Options.TsEcr);
        Assert.True(header.Options.HasWindowScale);
        Assert.Equal(7, header.Options.WindowScale);
        Assert.Equal([1, 2, 3], payload.ToArray());
    }

    [Fact]
    public void WindowScale_IsClampedTo14()
    {
        var tcp = Segment(TcpFlags.Syn, 1, 3, 3, 15);
        Assert.Equal(PacketDropReason.None, Read(tcp, out var header));
        Assert.Equal(14, header.Options.WindowScale);
    }

    [Fact]
    public void SynOnlyOptions_OnANonSyn_AreIgnored()
    {
        var tcp = Segment(TcpFlags.Ack, 2, 4, 0x05, 0xB4, 1, 3, 3, 7, 1, 1, 4, 2);
        Assert.Equal(PacketDropReason.None, Read(tcp, out var header));
        Assert.Equal(0, header.Options.Mss);
        Assert.False(header.Options.HasWindowScale);
        Assert.False(header.Options.SackPermitted);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void SackBlocks_OneToFour_Read(int blocks)
    {
        var options = new byte[4 + (8 * blocks)];
        options[0] = 1;
        options[1] = 1;
        options[2] = 5;
        options[3] = (byte)(2 + (8 * blocks));
        for (int b = 0; b < blocks; b++)
        {
            options[4 + (b * 8) + 3] = (byte)(10 + b);
            options[4 + (b * 8) + 7] = (byte)(20 + b);
        }

        Assert.Equal(PacketDropReason.None, Read(Segment(TcpFlags.Ack, options), out var header));
        Assert.Equal(blocks, header.Options.SackCount);
        for (int b = 0; b < blocks; b++)
        {
            Assert.Equal(new SackBlock((uint)(10 + b), (uint)(20 + b)), header.Options.Sack[b]);
        }
    }

    [Fact]
    public void UnknownKinds_AreSkippedByTheirLength()
    {
        // TFO cookie (34, len 10), NOP NOP, then NOP NOP TS.
        var tcp = Segment(TcpFlags.Ack, 34, 10, 9, 9, 9, 9, 9, 9, 9, 9, 1, 1, 1, 1, 8, 10, 0, 0, 0, 5, 0, 0, 0, 6);
        Assert.Equal(PacketDropReason.None, Read(tcp, out var header));
        Assert.True(header.Options.HasTimestamps);
        Assert.Equal(5u, header.Options.TsVal);
        Assert.Equal(6u, header.Options.TsEcr);
    }

    [Fact]
    public void EndOfList_StopsParsing_EvenWithGarbageAfter()
    {
        var tcp = Segment(TcpFlags.Ack, 0, 99, 0, 77);
        Assert.Equal(PacketDropReason.None, Read(tcp, out _));
    }

    [Theory]
    [InlineData(new byte[] { 34, 0, 1, 1 })] // length 0
    [InlineData(new byte[] { 34, 1, 1, 1 })] // length 1
    [InlineData(new byte[] { 34, 9, 1, 1 })] // past the header
    [InlineData(new byte[] { 1, 1, 1, 8 })] // kind with no length byte
    [InlineData(new byte[] { 2, 5, 5, 0xB4, 0, 0, 0, 0 })] // MSS length 5
    [InlineData(new byte[] { 2, 3, 5, 1 })] // MSS length 3
    [InlineData(new byte[] { 3, 4, 7, 1 })] // WS length 4
    [InlineData(new byte[] { 4, 3, 0, 1 })] // SACK-OK length 3
    [InlineData(new byte[] { 8, 8, 0, 0, 0, 1, 0, 0 })] // TS length 8
    [InlineData(new byte[] { 5, 2, 1, 1 })] // SACK with no block
    [InlineData(new byte[] { 5, 6, 0, 0, 0, 1, 1, 1 })] // SACK not 2 + 8n
    public void ForgedLengths_AreBadOptions(byte[] options)
    {
        Assert.Equal(PacketDropReason.BadOptions, Read(Segment(TcpFlags.Syn, options), out _));
    }

    [Fact]
    public void FiveSackBlocks_AreBadOptions()
    {
        // 2 + 40 bytes cannot fit in 40 bytes of options anyway; a length of 42 runs past the header.
        var options = new byte[40];
        options[0] = 5;
        options[1] = 42;
        Assert.Equal(PacketDropReason.BadOptions, Read(Segment(TcpFlags.Ack, options), out _));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(4)]
    public void DataOffsetUnder5_IsBadTcpHeader(int offset)
    {
        var tcp = Segment(TcpFlags.Ack);
        tcp[12] = (byte)(offset << 4);
        Assert.Equal(PacketDropReason.BadTcpHeader, Read(tcp, out _));
    }

    [Fact]
    public void DataOffsetPastThePacket_IsBadTcpHeader()
    {
        var tcp = Segment(TcpFlags.Ack);
        tcp[12] = 15 << 4;
        Assert.Equal(PacketDropReason.BadTcpHeader, Read(tcp, out _));
    }

    [Fact]
    public void ShorterThan20_IsTruncated()
    {
        Assert.Equal(PacketDropReason.Truncated, TcpSegmentCodec.TryRead(new byte[19], out _, out _, out _, out _));
    }

    [Fact]
    public void Write_Syn_LaysOptionsOutAsLinux()
    {
        var header = TestPackets.Syn();
        var buffer = new byte[60];
        int length = TcpSegmentCodec.Write(buffer, 8080, 40000, header);
        Assert.Equal(40, length);
        Assert.Equal(
            new byte[] { 2, 4, 0x05, 0xB4, 4, 2, 8, 10, 0, 0, 0x30, 0x39, 0, 0, 0, 0, 1, 3, 3, 7 },
            buffer.AsSpan(20, 20).ToArray());
        Assert.Equal(0xA0, buffer[12]);
        Assert.Equal((byte)TcpFlags.Syn, buffer[13]);
    }

    [Fact]
    public void Write_DataWithSack_LaysOptionsOutAsLinux()
    {
        var header = TestPackets.Data(sackBlocks: 1);
        var buffer = new byte[60];
        int length = TcpSegmentCodec.Write(buffer, 8080, 40000, header);
        Assert.Equal(20 + 12 + 12, length);
        Assert.Equal(new byte[] { 1, 1, 8, 10, 0, 0, 0, 77, 0, 0, 0, 66, 1, 1, 5, 10 }, buffer.AsSpan(20, 16).ToArray());
    }

    [Fact]
    public void Write_SackPermittedWithoutTimestamps_IsNopNopSackOk()
    {
        var header = new TcpHeader { Flags = TcpFlags.Syn };
        header.Options.Mss = 536;
        header.Options.SackPermitted = true;
        var buffer = new byte[60];
        Assert.Equal(28, TcpSegmentCodec.Write(buffer, 1, 2, header));
        Assert.Equal(new byte[] { 2, 4, 2, 0x18, 1, 1, 4, 2 }, buffer.AsSpan(20, 8).ToArray());
    }

    [Fact]
    public void Write_FourSackBlocksBesideTimestamps_KeepsTheFirstThree()
    {
        var header = TestPackets.Data(sackBlocks: 4);
        var buffer = new byte[60];
        Assert.Equal(60, TcpSegmentCodec.Write(buffer, 1, 2, header));
        Assert.Equal(PacketDropReason.None, TcpSegmentCodec.TryRead(buffer, out _, out _, out var read, out _));
        Assert.Equal(3, read.Options.SackCount);
        Assert.Equal(header.Options.Sack[2], read.Options.Sack[2]);
    }

    [Fact]
    public void Write_FourSackBlocksAlone_KeepsAllFour()
    {
        var header = TestPackets.Data(sackBlocks: 4);
        header.Options.HasTimestamps = false;
        var buffer = new byte[60];
        Assert.Equal(56, TcpSegmentCodec.Write(buffer, 1, 2, header));
        Assert.Equal(PacketDropReason.None, TcpSegmentCodec.TryRead(buffer.AsSpan(0, 56), out _, out _, out var read, out _));
        Assert.Equal(4, read.Options.SackCount);
    }

    [Fact]
    public void RandomOptionAreas_NeverThrow_AndKeepTheirBounds()
    {
        Gen.Select(Gen.Byte.Array[0, 40], Gen.Bool).Sample((area, syn) =>
        {
            var options = default(TcpOptions);
            if (TcpSegmentCodec.TryReadOptions(area, syn, ref options))
            {
                Assert.InRange(options.SackCount, 0, 4);
                Assert.InRange(options.WindowScale, 0, 14);
                Assert.True(syn || (options.Mss == 0 && !options.HasWindowScale && !options.SackPermitted));
            }
        }, iter: 20000);
    }

    [Fact]
    public void WriteThenRead_RoundTripsRandomHeaders()
    {
        var gen = Gen.Select(Gen.UInt, Gen.UInt, Gen.Byte, Gen.UShort, Gen.UShort, Gen.Bool, Gen.Byte[0, 20], Gen.Bool)
            .Select(Gen.Bool, Gen.UInt, Gen.UInt, Gen.Int[0, 4], Gen.UInt.Array[8]);
        gen.Sample((fixedPart, hasTs, tsVal, tsEcr, sacks, edges) =>
        {
            var (seq, ack, flags, window, mss, hasWs, ws, sackOk) = fixedPart;
            var header = new TcpHeader { Seq = seq, Ack = ack, Flags = (TcpFlags)flags | TcpFlags.Syn, Window = window };
            header.Options.Mss = mss;
            header.Options.HasWindowScale = hasWs;
            header.Options.WindowScale = ws;
            header.Options.SackPermitted = sackOk;
            header.Options.HasTimestamps = hasTs;
            header.Options.TsVal = tsVal;
            header.Options.TsEcr = tsEcr;
            header.Options.SackCount = (byte)sacks;
            for (int i = 0; i < sacks; i++)
            {
                header.Options.Sack[i] = new SackBlock(edges[2 * i], edges[(2 * i) + 1]);
            }

            var buffer = new byte[60];
            int length = TcpSegmentCodec.Write(buffer, 1, 2, header);
            Assert.Equal(0, length % 4);
            Assert.Equal(PacketDropReason.None, TcpSegmentCodec.TryRead(buffer.AsSpan(0, length), out _, out _, out var read, out var payload));
            Assert.True(payload.IsEmpty);
            Assert.Equal(header.Seq, read.Seq);
            Assert.Equal(header.Ack, read.Ack);
            Assert.Equal(header.Flags, read.Flags);
            Assert.Equal(mss, read.Options.Mss);
            Assert.Equal(hasWs, read.Options.HasWindowScale);
            Assert.Equal(hasWs ? Math.Min(ws, (byte)14) : 0, read.Options.WindowScale);
            Assert.Equal(sackOk, read.Options.SackPermitted);
            Assert.Equal(hasTs, read.Options.HasTimestamps);
            int used = (mss != 0 ? 4 : 0) + (hasTs ? 12 : sackOk ? 4 : 0) + (hasWs ? 4 : 0);
            Assert.Equal(Math.Min(sacks, Math.Max(0, (40 - used - 4) / 8)), read.Options.SackCount);
            for (int i = 0; i < read.Options.SackCount; i++)
            {
                Assert.Equal(header.Options.Sack[i], read.Options.Sack[i]);
            }
        }, iter: 5000);
    }
}
