using System.Buffers.Binary;
using KcpKestrel.Multicast.Wire;

namespace KcpKestrel.Multicast.Tests.Wire;

public sealed class WireFormatTests
{
    [Fact]
    public void Header_RoundTrip_KeepsEveryField()
    {
        var datagram = Data(frames: [(7, FrameFlags.Whole, 0, [1, 2, 3])]);
        new PacketHeader(PacketKind.Data, PacketFlags.Retransmit, 513, 9, 0xA1B2C3D4, 0x0102030405060708).Write(datagram);

        Assert.Equal(ParseStatus.Ok, PacketHeader.TryRead(datagram, out var header));
        Assert.Equal(new PacketHeader(PacketKind.Data, PacketFlags.Retransmit, 513, 9, 0xA1B2C3D4, 0x0102030405060708), header);
        Assert.Equal([0x6D, 1, 1, 1, 0x01, 0x02, 9, 0], datagram[..8]);
    }

    [Fact]
    public void Frames_WholeAndFragments_ReadBackInOrder()
    {
        var datagram = Data(frames: [(1, FrameFlags.Whole, 0, [10, 11]), (2, FrameFlags.First, 1000, new byte[5]), (3, FrameFlags.Whole, 0, [])]);
        Assert.Equal(ParseStatus.Ok, PacketHeader.TryRead(datagram, out _));

        var reader = new FrameReader(datagram.AsSpan(PacketHeader.Size));
        Assert.Equal(ParseStatus.Ok, reader.TryNext(out var first, out _));
        Assert.Equal((byte)1, first.Topic);
        Assert.Equal([10, 11], first.Payload.ToArray());
        Assert.Equal(ParseStatus.Ok, reader.TryNext(out var second, out _));
        Assert.Equal(FrameFlags.First, second.Flags);
        Assert.Equal(1000u, second.TotalLength);
        Assert.Equal(5, second.Payload.Length);
        Assert.Equal(ParseStatus.Ok, reader.TryNext(out var third, out _));
        Assert.True(third.Payload.IsEmpty);
        Assert.Equal(ParseStatus.Ok, reader.TryNext(out _, out var end));
        Assert.True(end);
    }

    [Fact]
    public void ForgedFrameLength_PastTheEnd_IsBadFrame()
    {
        var datagram = Data(frames: [(1, FrameFlags.Whole, 0, [1, 2, 3, 4])]);
        BinaryPrimitives.WriteUInt16LittleEndian(datagram.AsSpan(PacketHeader.Size), 65535);
        Assert.Equal(ParseStatus.BadFrame, PacketHeader.TryRead(datagram, out _));
    }

    [Fact]
    public void FragmentTotal_SmallerThanPayload_IsBadFragment()
    {
        var datagram = Data(frames: [(1, FrameFlags.First, 2, [1, 2, 3, 4])]);
        Assert.Equal(ParseStatus.BadFragment, PacketHeader.TryRead(datagram, out _));
    }

    [Fact]
    public void EveryTruncation_OfAValidPacket_IsDroppedWithoutThrowing()
    {
        var datagram = Data(frames: [(1, FrameFlags.Whole, 0, [1, 2, 3]), (2, FrameFlags.Last, 9, [4, 5])]);
        for (var length = 0; length < datagram.Length; length++)
        {
            var status = PacketHeader.TryRead(datagram.AsSpan(0, length), out _);
            // Cutting exactly at a frame boundary leaves a valid shorter packet.
            Assert.True(status != ParseStatus.Ok || length == PacketHeader.Size + 7, $"length {length}: {status}");
        }
    }

    [Theory]
    [InlineData(0, 0x00, (int)ParseStatus.BadMagic)]
    [InlineData(1, 0x09, (int)ParseStatus.BadVersion)]
    [InlineData(2, 0x77, (int)ParseStatus.UnknownKind)]
    [InlineData(3, 0x80, (int)ParseStatus.BadFlags)]
    public void ForgedHeaderByte_IsDroppedWithItsReason(int offset, byte value, int expected)
    {
        var datagram = Data(frames: [(1, FrameFlags.Whole, 0, [1])]);
        datagram[offset] = value;
        Assert.Equal((ParseStatus)expected, PacketHeader.TryRead(datagram, out _));
    }

    [Theory]
    [InlineData(0u, (int)ParseStatus.BadCount)]
    [InlineData(PacketHeader.MaxNakCount + 1, (int)ParseStatus.BadCount)]
    [InlineData(5u, (int)ParseStatus.Ok)]
    public void NakCount_OutsideItsRange_IsBadCount(uint count, int expected)
    {
        var datagram = new byte[ControlPackets.MaxSize];
        var length = ControlPackets.WriteNak(datagram, 2, 1, 7, 100, count);
        Assert.Equal((ParseStatus)expected, PacketHeader.TryRead(datagram.AsSpan(0, length), out _));
    }

    [Fact]
    public void NakRange_PastTheSequenceSpace_IsBadCount()
    {
        var datagram = new byte[ControlPackets.MaxSize];
        var length = ControlPackets.WriteNak(datagram, 2, 1, 7, ulong.MaxValue - 1, 5);
        Assert.Equal(ParseStatus.BadCount, PacketHeader.TryRead(datagram.AsSpan(0, length), out _));
    }

    [Fact]
    public void ControlPackets_WithExtraBytes_AreBadLength()
    {
        var datagram = new byte[ControlPackets.MaxSize + 1];
        var length = ControlPackets.WriteHeartbeat(datagram, PacketFlags.None, 1, 7, 10, 3);
        Assert.Equal(ParseStatus.Ok, PacketHeader.TryRead(datagram.AsSpan(0, length), out var header));
        Assert.Equal(10ul, header.Sequence);
        Assert.Equal(3ul, PacketHeader.ReadOldest(datagram, PacketKind.Heartbeat));
        Assert.Equal(ParseStatus.BadLength, PacketHeader.TryRead(datagram.AsSpan(0, length + 1), out _));
    }

    [Fact]
    public void GonePacket_RoundTrip_KeepsCountAndOldest()
    {
        var datagram = new byte[ControlPackets.MaxSize];
        var length = ControlPackets.WriteGone(datagram, 1, 2, 7, 40, 3, 55);
        Assert.Equal(ParseStatus.Ok, PacketHeader.TryRead(datagram.AsSpan(0, length), out var header));
        Assert.Equal((PacketKind.Gone, (ushort)2, 40ul), (header.Kind, header.Target, header.Sequence));
        Assert.Equal(3u, PacketHeader.ReadCount(datagram));
        Assert.Equal(55ul, PacketHeader.ReadOldest(datagram, PacketKind.Gone));
    }

    [Fact]
    public void RandomDatagrams_NeverThrow_AndAllocateNothing()
    {
        var datagram = new byte[256];
        var random = new Random(20);
        ParseRandom(random, datagram, 2_000);
        var before = GC.GetAllocatedBytesForCurrentThread();
        var accepted = ParseRandom(random, datagram, 20_000);

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.True(accepted < 20_000);
    }

    private static int ParseRandom(Random random, byte[] datagram, int count)
    {
        var accepted = 0;
        for (var i = 0; i < count; i++)
        {
            random.NextBytes(datagram);
            datagram[0] = PacketHeader.Magic;
            datagram[1] = PacketHeader.Version;
            datagram[2] = (byte)(1 + (i % 5));
            datagram[3] = (byte)(i % 4);
            if (PacketHeader.TryRead(datagram.AsSpan(0, random.Next(datagram.Length)), out _) == ParseStatus.Ok)
            {
                accepted++;
            }
        }

        return accepted;
    }

    internal static byte[] Data((byte Topic, FrameFlags Flags, int Total, byte[] Payload)[] frames)
    {
        var buffer = new byte[2048];
        new PacketHeader(PacketKind.Data, PacketFlags.None, 1, 0, 7, 1).Write(buffer);
        var at = PacketHeader.Size;
        foreach (var (topic, flags, total, payload) in frames)
        {
            at += flags == FrameFlags.Whole
                ? FrameWriter.WriteWhole(buffer.AsSpan(at), topic, payload)
                : FrameWriter.WriteFragment(buffer.AsSpan(at), topic, flags, total, payload);
        }

        return buffer[..at];
    }
}
