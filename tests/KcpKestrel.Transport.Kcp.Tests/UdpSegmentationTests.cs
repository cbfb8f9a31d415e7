using System.Buffers.Binary;
using KcpKestrel.Transport.Kcp.Io.Datagrams;
using KcpKestrel.Transport.Kcp.Io.Native;

namespace KcpKestrel.Transport.Kcp.Tests;

/// <summary>The pure GSO grouping and GRO splitting rules, without sockets.</summary>
public sealed class UdpSegmentationTests
{
    [Fact]
    public void RunLength_EqualSizesToOnePeer_OneRunCappedAtTheSegmentLimit()
    {
        var lengths = Repeat(1000, 64 + 10);
        var same = SameAll(lengths.Length);

        Assert.Equal(64, UdpSegmentation.RunLength(lengths, same, 0));
        Assert.Equal(10, UdpSegmentation.RunLength(lengths, same, 64));
        Assert.Equal(5, UdpSegmentation.RunLength(lengths, same, 0, maxSegments: 5));
    }

    [Fact]
    public void RunLength_PayloadLimit_CutsTheRunBeforeItIsExceeded()
    {
        var lengths = Repeat(1400, 64);
        var same = SameAll(lengths.Length);

        // 46 × 1400 = 64400 fits in 65507; 47 × 1400 = 65800 does not.
        Assert.Equal(46, UdpSegmentation.RunLength(lengths, same, 0));
        Assert.Equal(3, UdpSegmentation.RunLength(lengths, same, 0, maxPayload: 4200));
        Assert.Equal(2, UdpSegmentation.RunLength(lengths, same, 0, maxPayload: 4199));
    }

    [Fact]
    public void RunLength_AShorterDatagramEndsTheRun_ALongerOneStartsANewOne()
    {
        int[] lengths = [1350, 1350, 1350, 200, 1350, 1350, 1400, 1400];
        var same = SameAll(lengths.Length);

        Assert.Equal(4, UdpSegmentation.RunLength(lengths, same, 0)); // 3 full + the short last
        Assert.Equal(2, UdpSegmentation.RunLength(lengths, same, 4)); // 1350, 1350, then 1400 is longer
        Assert.Equal(2, UdpSegmentation.RunLength(lengths, same, 6));
        Assert.Equal(1, UdpSegmentation.RunLength(lengths, same, 3)); // 200 then 1350: longer, cannot follow
    }

    [Fact]
    public void RunLength_ADestinationChangeEndsTheRun()
    {
        int[] lengths = [500, 500, 500, 500, 500];
        bool[] same = [false, true, false, true, true];

        Assert.Equal(2, UdpSegmentation.RunLength(lengths, same, 0));
        Assert.Equal(3, UdpSegmentation.RunLength(lengths, same, 2));
    }

    [Fact]
    public void RunLength_EmptyOrSingleDatagrams_AreNotSegmented()
    {
        int[] lengths = [0, 0, 100];
        var same = SameAll(lengths.Length);

        Assert.Equal(1, UdpSegmentation.RunLength(lengths, same, 0));
        Assert.Equal(1, UdpSegmentation.RunLength(lengths, same, 2));
    }

    [Fact]
    public void RunLength_AnyBatch_RunsTileItAndObeyTheKernelsRules()
    {
        var random = new Random(42);
        for (var trial = 0; trial < 500; trial++)
        {
            var count = random.Next(1, 65);
            var lengths = new int[count];
            var same = new bool[count];
            for (var i = 0; i < count; i++)
            {
                lengths[i] = random.Next(4) == 0 ? random.Next(1, 1500) : 1400;
                same[i] = i > 0 && random.Next(8) != 0;
            }

            var start = 0;
            while (start < count)
            {
                var run = UdpSegmentation.RunLength(lengths, same, start);
                Assert.InRange(run, 1, Math.Min(UdpSegmentation.MaxSegments, count - start));
                var total = 0;
                for (var i = start; i < start + run; i++)
                {
                    total += lengths[i];
                    if (i > start)
                    {
                        Assert.True(same[i]);
                        Assert.True(lengths[i] <= lengths[start]);
                    }

                    if (i < start + run - 1)
                    {
                        Assert.Equal(lengths[start], lengths[i]);
                    }
                }

                Assert.True(run == 1 || total <= UdpSegmentation.MaxPayload);

                // What the kernel cuts must be the datagrams that went in.
                Assert.Equal(run, UdpSegmentation.SegmentCount(total, run > 1 ? lengths[start] : 0));
                for (var i = 0; i < run; i++)
                {
                    var (offset, length) = UdpSegmentation.Segment(total, lengths[start], i).GetOffsetAndLength(total);
                    Assert.Equal(lengths[start + i], length);
                    Assert.Equal(i * lengths[start], offset);
                }

                start += run;
            }
        }
    }

    [Theory]
    [InlineData(1400, 0, 1)]
    [InlineData(1400, 1400, 1)]
    [InlineData(2800, 1400, 2)]
    [InlineData(2801, 1400, 3)]
    [InlineData(64400, 1400, 46)]
    [InlineData(100, 1400, 1)]
    public void SegmentCount_SplitsEverySegmentSizeBytes(int length, int segmentSize, int expected)
    {
        Assert.Equal(expected, UdpSegmentation.SegmentCount(length, segmentSize));
    }

    [Fact]
    public void Segment_LastMayBeShorter_WithoutSizeTheBufferIsOneDatagram()
    {
        Assert.Equal(0..1000, UdpSegmentation.Segment(2100, 1000, 0));
        Assert.Equal(1000..2000, UdpSegmentation.Segment(2100, 1000, 1));
        Assert.Equal(2000..2100, UdpSegmentation.Segment(2100, 1000, 2));
        Assert.Equal(0..2100, UdpSegmentation.Segment(2100, 0, 0));
    }

    [Fact]
    public void ReadGroSegmentSize_FindsTheUdpGroCmsg_AmongOthers()
    {
        var control = new byte[64];
        WriteCmsg(control, 0, level: 0, type: 8, data: 4); // IP_PKTINFO-like, 16 + 4 → aligned to 24
        WriteCmsg(control, 24, LinuxNative.SOL_UDP, LinuxNative.UDP_GRO, data: 4);
        BinaryPrimitives.WriteInt32LittleEndian(control.AsSpan(40), 1350);

        Assert.Equal(1350, UdpSegmentation.ReadGroSegmentSize(control.AsSpan(0, 48)));
        Assert.Equal(0, UdpSegmentation.ReadGroSegmentSize(control.AsSpan(0, 24)));
        Assert.Equal(0, UdpSegmentation.ReadGroSegmentSize([]));
    }

    [Fact]
    public void ReadGroSegmentSize_MalformedControl_IsNoSegmentSize()
    {
        var control = new byte[32];
        WriteCmsg(control, 0, LinuxNative.SOL_UDP, LinuxNative.UDP_GRO, data: 4);
        BinaryPrimitives.WriteUInt64LittleEndian(control, 4096); // longer than the buffer
        Assert.Equal(0, UdpSegmentation.ReadGroSegmentSize(control));

        BinaryPrimitives.WriteUInt64LittleEndian(control, 3); // shorter than a header
        Assert.Equal(0, UdpSegmentation.ReadGroSegmentSize(control));
    }

    [Fact]
    public void WriteSegmentCmsg_IsTheLayoutTheKernelReads()
    {
        var control = new byte[UdpSegmentation.SegmentCmsgSpace];
        UdpSegmentation.WriteSegmentCmsg(control, 1350);

        Assert.Equal(18UL, BinaryPrimitives.ReadUInt64LittleEndian(control));
        Assert.Equal(LinuxNative.SOL_UDP, BinaryPrimitives.ReadInt32LittleEndian(control.AsSpan(8)));
        Assert.Equal(LinuxNative.UDP_SEGMENT, BinaryPrimitives.ReadInt32LittleEndian(control.AsSpan(12)));
        Assert.Equal(1350, BinaryPrimitives.ReadUInt16LittleEndian(control.AsSpan(16)));
    }

    private static void WriteCmsg(byte[] control, int offset, int level, int type, int data)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(control.AsSpan(offset), (ulong)(16 + data));
        BinaryPrimitives.WriteInt32LittleEndian(control.AsSpan(offset + 8), level);
        BinaryPrimitives.WriteInt32LittleEndian(control.AsSpan(offset + 12), type);
    }

    private static int[] Repeat(int length, int count)
    {
        var lengths = new int[count];
        Array.Fill(lengths, length);
        return lengths;
    }

    private static bool[] SameAll(int count)
    {
        var same = new bool[count];
        Array.Fill(same, true);
        same[0] = false;
        return same;
    }
}
