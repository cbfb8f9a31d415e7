using KcpKestrel.Transport.UserTcp.Packets;
using KcpKestrel.Transport.UserTcp.Tcp;

namespace KcpKestrel.Transport.UserTcp.Tests.Packets;

public sealed class PacketWriterTests
{
    public static TheoryData<bool, string> Cases()
    {
        var data = new TheoryData<bool, string>();
        foreach (var v6 in new[] { false, true })
        {
            foreach (var kind in new[] { "bare", "syn", "mss", "ws", "sackok", "ts", "sack1", "sack3", "sack4-no-ts", "data", "wrapped" })
            {
                data.Add(v6, kind);
            }
        }

        return data;
    }

    private static (TcpHeader Header, byte[] Payload, byte[] Tail) Build(string kind)
    {
        var header = new TcpHeader { Seq = 0xFFFF_FF00, Ack = 123, Flags = TcpFlags.Ack, Window = 65535, Urgent = 0 };
        byte[] payload = [];
        byte[] tail = [];
        switch (kind)
        {
            case "syn":
                header = TestPackets.Syn();
                break;
            case "mss":
                header.Flags = TcpFlags.Syn;
                header.Options.Mss = 1220;
                break;
            case "ws":
                header.Flags = TcpFlags.Syn | TcpFlags.Ack;
                header.Options.HasWindowScale = true;
                header.Options.WindowScale = 14;
                break;
            case "sackok":
                header.Flags = TcpFlags.Syn;
                header.Options.SackPermitted = true;
                break;
            case "ts":
                header.Options.HasTimestamps = true;
                header.Options.TsVal = uint.MaxValue;
                header.Options.TsEcr = 1;
                break;
            case "sack1":
                header = TestPackets.Data(1);
                break;
            case "sack3":
                header = TestPackets.Data(3);
                payload = new byte[1000];
                Random.Shared.NextBytes(payload);
                break;
            case "sack4-no-ts":
                header = TestPackets.Data(4);
                header.Options.HasTimestamps = false;
                break;
            case "data":
                header = TestPackets.Data();
                payload = new byte[1388];
                Random.Shared.NextBytes(payload);
                break;
            case "wrapped":
                header = TestPackets.Data();
                payload = [1, 2, 3];
                tail = [4, 5, 6, 7];
                break;
            default:
                break;
        }

        return (header, payload, tail);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void WriterToDispatcher_RoundTrips(bool v6, string kind)
    {
        var (header, payload, tail) = Build(kind);
        var link = new InMemoryPacketLink(seed: 1);
        var counters = new PacketCounters();
        var writer = new PacketWriter(link.A.OpenQueue(0), 1500, counters);
        writer.Send(TestPackets.PeerFlow(v6), header, payload, tail);

        var input = new RecordingSegmentInput();
        var dispatcher = new PacketDispatcher(TestPackets.StackAddresses, input, new PacketCounters());
        var queue = link.B.OpenQueue(0);
        var buffer = new byte[1500];
        int length = queue.TryReceive(buffer);
        Assert.Equal(counters.BytesOut, length);
        Assert.Equal(PacketDropReason.None, dispatcher.OnPacket(buffer.AsSpan(0, length), 5));

        var (flow, read, readPayload, _) = Assert.Single(input.Segments);
        Assert.Equal(TestPackets.StackFlow(v6), flow);
        Assert.Equal(header.Seq, read.Seq);
        Assert.Equal(header.Ack, read.Ack);
        Assert.Equal(header.Flags, read.Flags);
        Assert.Equal(header.Window, read.Window);
        Assert.Equal(header.Options.Mss, read.Options.Mss);
        Assert.Equal(header.Options.HasWindowScale, read.Options.HasWindowScale);
        Assert.Equal(header.Options.WindowScale, read.Options.WindowScale);
        Assert.Equal(header.Options.SackPermitted, read.Options.SackPermitted);
        Assert.Equal(header.Options.HasTimestamps, read.Options.HasTimestamps);
        if (header.Options.HasTimestamps)
        {
            Assert.Equal(header.Options.TsVal, read.Options.TsVal);
            Assert.Equal(header.Options.TsEcr, read.Options.TsEcr);
        }
        Assert.Equal(header.Options.SackCount, read.Options.SackCount);
        for (int i = 0; i < header.Options.SackCount; i++)
        {
            Assert.Equal(header.Options.Sack[i], read.Options.Sack[i]);
        }

        Assert.Equal([.. payload, .. tail], readPayload);
    }

    [Fact]
    public void IPv4_Identification_Increments_WithTtl64AndDf()
    {
        var link = new InMemoryPacketLink(seed: 1);
        var writer = new PacketWriter(link.A.OpenQueue(0), 1500, new PacketCounters(), firstIdentification: ushort.MaxValue);
        var queue = link.B.OpenQueue(0);
        var buffer = new byte[1500];
        var ids = new List<ushort>();
        for (int i = 0; i < 3; i++)
        {
            writer.Send(TestPackets.PeerFlow(false), TestPackets.Data(), default, default);
            int length = queue.TryReceive(buffer);
            Assert.Equal(PacketDropReason.None, Ipv4Header.TryRead(buffer.AsSpan(0, length), out var ip));
            Assert.Equal(64, ip.Ttl);
            Assert.True(ip.IsDontFragment);
            ids.Add(ip.Identification);
        }

        Assert.Equal(new ushort[] { 65535, 0, 1 }, ids);
    }

    [Fact]
    public void SegmentPastTheMtu_IsNotSent_AndCounted()
    {
        var link = new InMemoryPacketLink(seed: 1);
        var counters = new PacketCounters();
        var writer = new PacketWriter(link.A.OpenQueue(0), 1500, counters);
        writer.Send(TestPackets.PeerFlow(false), TestPackets.Data(), new byte[1461], default);
        Assert.Equal(1, counters.OutTooBig);
        Assert.Equal(0, link.A.Sent);
        writer.Send(TestPackets.PeerFlow(false), TestPackets.Data(), new byte[1448], default);
        Assert.Equal(1, link.A.Sent);
    }

    [Fact]
    public void SteadyState_WriteAndDispatch_AllocateNothing()
    {
        var queue = new NullQueue();
        var writer = new PacketWriter(queue, 1500, new PacketCounters());
        var input = new CountingSegmentInput();
        var dispatcher = new PacketDispatcher(TestPackets.StackAddresses, input, new PacketCounters());
        var payload = new byte[1400];
        var header = TestPackets.Data(2);
        var v4 = TestPackets.PeerFlow(false);
        var v6 = TestPackets.PeerFlow(true);
        var packet = TestPackets.FromPeer(false, header, payload);
        for (int i = 0; i < 100; i++)
        {
            writer.Send(v4, header, payload, default);
            dispatcher.OnPacket(packet, 0);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++)
        {
            writer.Send((i & 1) == 0 ? v4 : v6, header, payload, default);
            dispatcher.OnPacket(packet, (uint)i);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(10_100, queue.Sent);
        Assert.Equal(10_100, input.Count);
    }

    private sealed class NullQueue : IPacketQueue
    {
        public long Sent;

        public bool Wait(int timeoutMs) => false;

        public void Wake()
        {
        }

        public int TryReceive(Span<byte> buffer) => 0;

        public void Send(ReadOnlySpan<byte> packet) => Sent++;

        public void Dispose()
        {
        }
    }
}
