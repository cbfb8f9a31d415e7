using KcpKestrel.Multicast.Publishing;
using KcpKestrel.Multicast.Wire;

namespace KcpKestrel.Multicast.Tests.Publishing;

public sealed class MulticastPublisherTests
{
    private readonly RecordingSink _sink = new();

    [Fact]
    public void Offer_WithoutFlush_WaitsForTheFlushDelayThenSendsOneBatch()
    {
        var publisher = Publisher(new MulticastOptions());
        publisher.Poll(0);
        for (var i = 0; i < 3; i++)
        {
            Assert.True(publisher.TryOffer([(byte)i, 9], topic: 4, flush: false, now: 10));
        }

        publisher.Poll(1009);
        Assert.Empty(_sink.OfKind(PacketKind.Data));
        Assert.Equal(1010, publisher.Poll(1009));

        publisher.Poll(1010);
        var data = Assert.Single(_sink.OfKind(PacketKind.Data));
        Assert.Equal(1ul, RecordingSink.Header(data).Sequence);
        Assert.Equal([[0, 9], [1, 9], [2, 9]], RecordingSink.Frames(data).Select(f => f.Payload));
    }

    [Fact]
    public void FlushDue_OpenBatch_IsItsFlushTimeAndNoneOnceSent()
    {
        var publisher = Publisher(new MulticastOptions());
        Assert.Equal(long.MaxValue, publisher.FlushDue);

        publisher.TryOffer([1], topic: 1, flush: false, now: 50);
        publisher.TryOffer([2], topic: 1, flush: false, now: 70);
        Assert.Equal(1050, publisher.FlushDue);

        publisher.TryOffer([3], topic: 1, flush: true, now: 80);
        Assert.Equal(long.MaxValue, publisher.FlushDue);
    }

    [Fact]
    public void Offer_WithFlush_SendsAtOnce()
    {
        var publisher = Publisher(new MulticastOptions());
        publisher.TryOffer([1], 0, flush: false, now: 0);
        publisher.TryOffer([2], 0, flush: true, now: 0);
        var data = Assert.Single(_sink.OfKind(PacketKind.Data));
        Assert.Equal(2, RecordingSink.Frames(data).Count);
    }

    [Fact]
    public void Offer_PastAFullBatch_SendsTheFullOne()
    {
        var publisher = Publisher(new MulticastOptions { DatagramSize = 512 });
        var message = new byte[100];
        for (var i = 0; i < 5; i++)
        {
            publisher.TryOffer(message, 0, flush: false, now: 0);
        }

        // 20 + 4 * 104 = 436 bytes hold four; the fifth opens the next batch.
        var data = Assert.Single(_sink.OfKind(PacketKind.Data));
        Assert.Equal(4, RecordingSink.Frames(data).Count);
        Assert.True(data.Length <= 512);
    }

    [Fact]
    public void Offer_LargerThanADatagram_IsFragmentedInConsecutivePackets()
    {
        var publisher = Publisher(new MulticastOptions());
        var message = Enumerable.Range(0, 5000).Select(i => (byte)i).ToArray();
        publisher.TryOffer(message, 3, flush: true, now: 0);

        var packets = _sink.OfKind(PacketKind.Data).ToList();
        Assert.Equal(4, packets.Count);
        Assert.Equal([1ul, 2, 3, 4], packets.Select(p => RecordingSink.Header(p).Sequence));
        var frames = packets.SelectMany(RecordingSink.Frames).ToList();
        Assert.Equal([FrameFlags.First, FrameFlags.Middle, FrameFlags.Middle, FrameFlags.Last], frames.Select(f => f.Flags));
        Assert.Equal(message, frames.SelectMany(f => f.Payload));
        Assert.All(packets, p => Assert.True(p.Length <= 1400));
    }

    [Fact]
    public void Offer_AboveMaxMessageSize_Throws()
    {
        var publisher = Publisher(new MulticastOptions { MaxMessageSize = 10 });
        Assert.Throws<ArgumentOutOfRangeException>(() => publisher.TryOffer(new byte[11], 0, true, 0));
    }

    [Fact]
    public void Offer_ForAnotherTarget_ClosesTheBatch()
    {
        var publisher = Publisher(new MulticastOptions());
        publisher.TryOffer([1], 0, flush: false, now: 0, target: 5);
        publisher.TryOffer([2], 0, flush: true, now: 0);
        Assert.Equal([(ushort)5, 0], _sink.OfKind(PacketKind.Data).Select(p => RecordingSink.Header(p).Target));
    }

    [Fact]
    public void Nak_ForASentPacket_ResendsItFlaggedRetransmit()
    {
        var publisher = SentThree();
        publisher.OnDatagram(Nak(first: 2, count: 1), now: 100);

        var resent = _sink.Sent[^1];
        Assert.Equal(2ul, RecordingSink.Header(resent).Sequence);
        Assert.Equal(PacketFlags.Retransmit, RecordingSink.Header(resent).Flags);
        Assert.Equal(1, publisher.Counters.Retransmits);
    }

    [Fact]
    public void Nak_ForNeverSentSequences_IsCountedAndIgnored()
    {
        var publisher = SentThree();
        var before = _sink.Sent.Count;
        publisher.OnDatagram(Nak(first: 3, count: 100), now: 100);

        Assert.Equal(before + 1, _sink.Sent.Count);
        Assert.Equal(99, publisher.Counters.NaksNeverSent);
    }

    [Fact]
    public void Nak_RepeatedWithinTheSuppressWindow_IsAnsweredOnce()
    {
        var publisher = SentThree();
        for (var i = 0; i < 50; i++)
        {
            publisher.OnDatagram(Nak(first: 1, count: 3), now: 100 + i);
        }

        Assert.Equal(3, publisher.Counters.Retransmits);
        Assert.Equal(147, publisher.Counters.NaksSuppressed);
        publisher.OnDatagram(Nak(first: 1, count: 1), now: 100 + 2000);
        Assert.Equal(4, publisher.Counters.Retransmits);
    }

    [Fact]
    public void Nak_ForPacketsOutOfHistory_AnswersGoneWithTheOldest()
    {
        var publisher = Publisher(new MulticastOptions { HistoryPackets = 16 });
        for (var i = 0; i < 40; i++)
        {
            publisher.TryOffer([1], 0, true, i);
        }

        publisher.OnDatagram(Nak(first: 10, count: 20), now: 100);
        var gone = Assert.Single(_sink.OfKind(PacketKind.Gone));
        Assert.Equal((10ul, (ushort)2), (RecordingSink.Header(gone).Sequence, RecordingSink.Header(gone).Target));
        // 40 sent, the 16-slot ring holds 25..40 (no batch is being built in 25's slot).
        Assert.Equal(15u, PacketHeader.ReadCount(gone));
        Assert.Equal(25ul, PacketHeader.ReadOldest(gone, PacketKind.Gone));
        Assert.Equal(5, publisher.Counters.Retransmits);
    }

    [Fact]
    public void Nak_ForAnotherNodeOrForged_IsDropped()
    {
        var publisher = SentThree();
        var forOther = Nak(first: 1, count: 1);
        forOther[6] = 9;
        publisher.OnDatagram(forOther, 100);
        publisher.OnDatagram(forOther.AsSpan(0, 10), 100);
        Assert.Equal(0, publisher.Counters.Retransmits);
        Assert.Equal(2, publisher.Counters.Dropped);
    }

    [Fact]
    public void Heartbeat_WhenIdle_CarriesLatestAndOldest()
    {
        var publisher = SentThree();
        Assert.Empty(_sink.OfKind(PacketKind.Heartbeat));
        publisher.Poll(100_000 - 1);
        Assert.Empty(_sink.OfKind(PacketKind.Heartbeat));
        publisher.Poll(100_000);
        var heartbeat = Assert.Single(_sink.OfKind(PacketKind.Heartbeat));
        Assert.Equal(3ul, RecordingSink.Header(heartbeat).Sequence);
        Assert.Equal(1ul, PacketHeader.ReadOldest(heartbeat, PacketKind.Heartbeat));
    }

    [Fact]
    public void RateLimit_NearTheLimit_BatchesDespiteFlushThenRefuses()
    {
        // 1000 packets/s: a burst of one packet, then one per millisecond.
        var publisher = Publisher(new MulticastOptions { PacketsPerSecond = 1000, DatagramSize = 512 });
        Assert.True(publisher.TryOffer(new byte[100], 0, flush: true, now: 0));
        Assert.Single(_sink.OfKind(PacketKind.Data));
        for (var i = 0; i < 4; i++)
        {
            Assert.True(publisher.TryOffer(new byte[100], 0, flush: true, now: 0));
        }

        Assert.Single(_sink.OfKind(PacketKind.Data));
        Assert.False(publisher.TryOffer(new byte[100], 0, flush: true, now: 0));
        Assert.Equal(1, publisher.Counters.RateLimited);
        Assert.Equal(1000, publisher.Poll(0));

        publisher.Poll(1000);
        Assert.Equal(2, _sink.OfKind(PacketKind.Data).Count());
    }

    [Fact]
    public void Retransmits_TakeTheSameBudget_AndLowerTheNewDataRate()
    {
        var publisher = Publisher(new MulticastOptions { PacketsPerSecond = 1000 });
        publisher.TryOffer([1], 0, flush: true, now: 0);
        publisher.OnDatagram(Nak(first: 1, count: 1), now: 1000);
        Assert.Equal(1, publisher.Counters.Retransmits);
        Assert.False(publisher.TryOffer(new byte[2000], 0, flush: true, now: 1000));
        Assert.True(publisher.TryOffer(new byte[2000], 0, flush: true, now: 2000));
    }

    private MulticastPublisher SentThree()
    {
        var publisher = Publisher(new MulticastOptions());
        for (var i = 0; i < 3; i++)
        {
            publisher.TryOffer([(byte)i], 0, flush: true, now: 0);
        }

        return publisher;
    }

    private MulticastPublisher Publisher(MulticastOptions options) => new(options, _sink);

    private static byte[] Nak(ulong first, uint count)
    {
        var datagram = new byte[ControlPackets.MaxSize];
        var length = ControlPackets.WriteNak(datagram, source: 2, publisher: 1, stream: 1, first, count);
        return datagram[..length];
    }
}
