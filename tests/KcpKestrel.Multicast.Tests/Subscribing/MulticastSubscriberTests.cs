using KcpKestrel.Multicast.Publishing;
using KcpKestrel.Multicast.Subscribing;
using KcpKestrel.Multicast.Wire;

namespace KcpKestrel.Multicast.Tests.Subscribing;

public sealed class MulticastSubscriberTests
{
    private readonly RecordingSink _published = new();
    private readonly RecordingSink _naks = new();
    private readonly RecordingReceiver _receiver = new();

    [Fact]
    public void InOrderPackets_AreDeliveredAtOnce()
    {
        var packets = Publish(3);
        var subscriber = Subscriber(new MulticastOptions { NodeId = 2 });
        foreach (var packet in packets)
        {
            subscriber.OnDatagram(packet, 0);
        }

        Assert.Equal([0, 1, 2], _receiver.Messages.Select(m => (int)m.Message[0]));
        // Nothing to NAK: the next thing due is the publisher timeout.
        Assert.Equal(3_000_000, subscriber.Poll(0));
    }

    [Fact]
    public void OutOfOrderPacket_IsBufferedUntilTheGapCloses()
    {
        var packets = Publish(4);
        var subscriber = Subscriber(Options());
        subscriber.OnDatagram(packets[0], 0);
        subscriber.OnDatagram(packets[2], 0);
        subscriber.OnDatagram(packets[3], 0);
        Assert.Single(_receiver.Messages);

        subscriber.OnDatagram(packets[1], 10);
        Assert.Equal([0, 1, 2, 3], _receiver.Messages.Select(m => (int)m.Message[0]));
        Assert.Empty(_naks.Sent);
    }

    [Fact]
    public void Gap_WaitsTheReorderWait_ThenNaksWithBackOff()
    {
        var packets = Publish(5);
        var subscriber = Subscriber(Options());
        subscriber.OnDatagram(packets[0], 0);
        subscriber.OnDatagram(packets[3], 100);

        Assert.Equal(600, subscriber.Poll(599));
        Assert.Empty(_naks.Sent);
        subscriber.Poll(600);
        var nak = Assert.Single(_naks.Sent);
        Assert.Equal((PacketKind.Nak, (ushort)1, 2ul), (RecordingSink.Header(nak).Kind, RecordingSink.Header(nak).Target, RecordingSink.Header(nak).Sequence));
        Assert.Equal(2u, PacketHeader.ReadCount(nak));

        // The first retries wait 5 ms each (a lost NAK or repair is common), later ones double.
        Assert.Equal(5600, subscriber.Poll(601));
        Assert.Equal(10_600, subscriber.Poll(5600));
        Assert.Equal(15_600, subscriber.Poll(10_600));
        Assert.Equal(25_600, subscriber.Poll(15_600));
        Assert.Equal(4, _naks.Sent.Count);
    }

    [Fact]
    public void NextDue_GapFound_IsTheReorderWaitUntilPollTakesIt()
    {
        var packets = Publish(4);
        var subscriber = Subscriber(Options());
        Assert.Equal(long.MaxValue, subscriber.NextDue);

        // The first packet of a new publisher sets its timeout; in-order traffic moves nothing earlier.
        subscriber.OnDatagram(packets[0], 0);
        Assert.Equal(3_000_000, subscriber.NextDue);
        subscriber.OnDatagram(packets[1], 10);
        Assert.Equal(3_000_000, subscriber.NextDue);

        subscriber.OnDatagram(packets[3], 100);
        Assert.Equal(600, subscriber.NextDue);

        subscriber.Poll(600);
        Assert.Equal(5600, subscriber.NextDue);
    }

    [Fact]
    public void NewMissingRun_BehindANakedGap_IsNakedAfterTheReorderWaitWithoutReNakingTheGap()
    {
        var packets = Publish(8);
        var subscriber = Subscriber(Options());
        subscriber.OnDatagram(packets[0], 0);
        subscriber.OnDatagram(packets[2], 0);
        subscriber.Poll(500);
        subscriber.OnDatagram(packets[5], 1000);

        Assert.Equal(1500, subscriber.Poll(1000));

        // Sequence 2's repair may still be on its way: it waits for its own retry at 5500.
        Assert.Equal(5500, subscriber.Poll(1500));
        Assert.Equal([(2ul, 1u), (4ul, 2u)], _naks.Sent.Select(n => (RecordingSink.Header(n).Sequence, PacketHeader.ReadCount(n))));
    }

    [Fact]
    public void Progress_OnAGap_LeavesTheRestItsOwnRetryTime()
    {
        var packets = Publish(8);
        var subscriber = Subscriber(Options());
        subscriber.OnDatagram(packets[0], 0);
        subscriber.OnDatagram(packets[2], 0);
        subscriber.OnDatagram(packets[4], 0);
        subscriber.Poll(500);
        Assert.Equal(10_500, subscriber.Poll(5500));

        // A repair arrives: sequence 4, NAKed at 5500 too, is not asked for again before its retry.
        subscriber.OnDatagram(packets[1], 6000);
        Assert.Equal(10_500, subscriber.Poll(6000));
        subscriber.Poll(10_500);
        Assert.Equal((4ul, 1u), (RecordingSink.Header(_naks.Sent[^1]).Sequence, PacketHeader.ReadCount(_naks.Sent[^1])));
        Assert.Equal(5, _naks.Sent.Count);
    }

    [Fact]
    public void SeveralGaps_AreNakedAsOneRangeEach()
    {
        var packets = Publish(8);
        var subscriber = Subscriber(Options());
        foreach (var i in new[] { 0, 2, 5, 7 })
        {
            subscriber.OnDatagram(packets[i], 0);
        }

        subscriber.Poll(10_000);
        Assert.Equal([(2ul, 1u), (4ul, 2u), (7ul, 1u)], _naks.Sent.Select(n => (RecordingSink.Header(n).Sequence, PacketHeader.ReadCount(n))));
    }

    [Fact]
    public void DuplicatePacket_IsDroppedAndCounted()
    {
        var packets = Publish(3);
        var subscriber = Subscriber(Options());
        subscriber.OnDatagram(packets[0], 0);
        subscriber.OnDatagram(packets[2], 0);
        subscriber.OnDatagram(packets[0], 0);
        subscriber.OnDatagram(packets[2], 0);

        Assert.Single(_receiver.Messages);
        Assert.Equal(2, subscriber.Counters.Duplicates);
    }

    [Fact]
    public void PacketFarAhead_BeyondTheBuffer_IsDroppedAndCounted()
    {
        var packets = Publish(20);
        var subscriber = Subscriber(Options(receiveBuffer: 16));
        subscriber.OnDatagram(packets[0], 0);
        subscriber.OnDatagram(packets[17], 0);
        subscriber.OnDatagram(packets[16], 0);

        Assert.Equal(1, subscriber.Counters.FarAhead);
        Assert.Single(_receiver.Messages);
        subscriber.Poll(10_000);
        Assert.Equal(15u, PacketHeader.ReadCount(Assert.Single(_naks.Sent)));
    }

    [Fact]
    public void TopicFilter_DeliversOnlySubscribedTopics()
    {
        var publisher = new MulticastPublisher(new MulticastOptions(), _published);
        publisher.TryOffer([1], topic: 1, flush: false, now: 0);
        publisher.TryOffer([2], topic: 2, flush: false, now: 0);
        publisher.TryOffer(new byte[3000], topic: 2, flush: false, now: 0);
        publisher.TryOffer([3], topic: 1, flush: true, now: 0);
        var subscriber = Subscriber(Options(), topics: [1]);
        foreach (var packet in _published.OfKind(PacketKind.Data))
        {
            subscriber.OnDatagram(packet, 0);
        }

        Assert.Equal([1, 3], _receiver.Messages.Select(m => (int)m.Message[0]));
        Assert.Equal(0, subscriber.Counters.BrokenMessages);
    }

    [Fact]
    public void Fragments_OutOfOrder_AreReassembledOnce()
    {
        var publisher = new MulticastPublisher(new MulticastOptions(), _published);
        var message = Enumerable.Range(0, 10_000).Select(i => (byte)(i * 7)).ToArray();
        publisher.TryOffer(message, topic: 5, flush: true, now: 0);
        var packets = _published.OfKind(PacketKind.Data).ToList();
        var subscriber = Subscriber(Options());
        subscriber.OnDatagram(packets[0], 0);
        foreach (var packet in Enumerable.Reverse(packets.Skip(1)))
        {
            subscriber.OnDatagram(packet, 0);
        }

        var (topic, received) = Assert.Single(_receiver.Messages);
        Assert.Equal((byte)5, topic);
        Assert.Equal(message, received);
    }

    [Fact]
    public void UnreliableStream_SkipsGapsWithoutNaks()
    {
        var publisher = new MulticastPublisher(new MulticastOptions { Reliable = false }, _published);
        for (var i = 0; i < 4; i++)
        {
            publisher.TryOffer([(byte)i], 0, flush: true, now: 0);
        }

        var packets = _published.OfKind(PacketKind.Data).ToList();
        var subscriber = Subscriber(Options());
        subscriber.OnDatagram(packets[0], 0);
        subscriber.OnDatagram(packets[2], 0);
        subscriber.OnDatagram(packets[1], 0);
        subscriber.OnDatagram(packets[3], 0);
        subscriber.Poll(1_000_000);

        Assert.Equal([0, 2, 3], _receiver.Messages.Select(m => (int)m.Message[0]));
        Assert.Equal(1, subscriber.Counters.Skipped);
        Assert.Empty(_naks.Sent);
    }

    [Fact]
    public void Heartbeat_AfterALostTail_NaksTheTail()
    {
        var publisher = new MulticastPublisher(new MulticastOptions(), _published);
        for (var i = 0; i < 3; i++)
        {
            publisher.TryOffer([(byte)i], 0, flush: true, now: 0);
        }

        publisher.Poll(100_000);
        var subscriber = Subscriber(Options());
        subscriber.OnDatagram(_published.Sent[0], 0);
        subscriber.OnDatagram(_published.OfKind(PacketKind.Heartbeat).Single(), 100_000);
        subscriber.Poll(100_500);

        var nak = Assert.Single(_naks.Sent);
        Assert.Equal((2ul, 2u), (RecordingSink.Header(nak).Sequence, PacketHeader.ReadCount(nak)));
    }

    [Fact]
    public void SilentPublisher_PastTheTimeout_IsSignalledGoneOnce()
    {
        var packets = Publish(1);
        var subscriber = Subscriber(Options());
        subscriber.OnDatagram(packets[0], 0);
        subscriber.Poll(2_999_999);
        Assert.Equal(0, _receiver.Gone);
        subscriber.Poll(3_000_000);
        subscriber.Poll(4_000_000);
        Assert.Equal(1, _receiver.Gone);
    }

    [Theory]
    [InlineData(MulticastGapPolicy.Resync)]
    [InlineData(MulticastGapPolicy.Stop)]
    public void GoneAnswer_SignalsTheLoss_ThenResyncsOrStops(MulticastGapPolicy policy)
    {
        var packets = Publish(6);
        var options = Options();
        options.OnUnrecoverable = policy;
        var subscriber = Subscriber(options);
        subscriber.OnDatagram(packets[0], 0);
        subscriber.OnDatagram(packets[4], 0);
        var gone = new byte[ControlPackets.MaxSize];
        ControlPackets.WriteGone(gone, source: 1, subscriber: 2, stream: 1, first: 2, count: 2, oldest: 4);
        subscriber.OnDatagram(gone, 10);

        Assert.Equal([((ushort)1, 2ul, 3ul)], _receiver.Unrecoverable);
        subscriber.OnDatagram(packets[3], 20);
        subscriber.OnDatagram(packets[5], 20);
        Assert.Equal(
            policy == MulticastGapPolicy.Resync ? [0, 3, 4, 5] : [0],
            _receiver.Messages.Select(m => (int)m.Message[0]));
    }

    [Fact]
    public void Join_Beginning_NaksFromSequenceOne()
    {
        var packets = Publish(3);
        var subscriber = Subscriber(Options(join: MulticastJoin.Beginning));
        subscriber.OnDatagram(packets[2], 0);
        subscriber.Poll(10_000);
        Assert.Equal((1ul, 2u), (RecordingSink.Header(_naks.Sent[0]).Sequence, PacketHeader.ReadCount(_naks.Sent[0])));
    }

    [Fact]
    public void Packets_PastMaxPublishers_AreDropped()
    {
        var options = Options();
        options.MaxPublishers = 1;
        var subscriber = Subscriber(options);
        var packets = Publish(1);
        subscriber.OnDatagram(packets[0], 0);
        packets[0][4] = 9;
        subscriber.OnDatagram(packets[0], 0);
        Assert.Single(_receiver.Messages);
        Assert.Equal(1, subscriber.Counters.Dropped);
    }

    [Fact]
    public void DataForAnotherNode_IsDropped()
    {
        var publisher = new MulticastPublisher(new MulticastOptions(), _published);
        publisher.TryOffer([1], 0, flush: true, now: 0, target: 3);
        var subscriber = Subscriber(Options());
        subscriber.OnDatagram(_published.Sent[0], 0);
        Assert.Empty(_receiver.Messages);
        Assert.Equal(1, subscriber.Counters.Dropped);
    }

    [Theory]
    [InlineData(MulticastGapPolicy.Resync)]
    [InlineData(MulticastGapPolicy.Stop)]
    public void Gone_WithLaterPacketsBuffered_DeliversThemAndReportsOnlyTheMissingRuns(MulticastGapPolicy policy)
    {
        // Packets 1..10: 1 arrives, 2 and 5-6 are lost, 3-4 and 7-10 are buffered; then the publisher
        // says everything below 9 left its history.
        var packets = Publish(10);
        var options = Options();
        options.OnUnrecoverable = policy;
        var subscriber = Subscriber(options);
        foreach (var i in new[] { 0, 2, 3, 6, 7, 8, 9 })
        {
            subscriber.OnDatagram(packets[i], 0);
        }

        var gone = new byte[ControlPackets.MaxSize];
        var length = ControlPackets.WriteGone(gone, source: 1, subscriber: 2, stream: 1, first: 2, count: 1, oldest: 9);
        subscriber.OnDatagram(gone.AsSpan(0, length), 10);

        if (policy == MulticastGapPolicy.Resync)
        {
            // Accepted data is never dropped: 3-4 and 7-10 reach the receiver, only 2 and 5-6 are lost.
            Assert.Equal([0, 2, 3, 6, 7, 8, 9], _receiver.Messages.Select(m => (int)m.Message[0]));
            Assert.Equal([((ushort)1, 2ul, 2ul), ((ushort)1, 5ul, 6ul)], _receiver.Unrecoverable);
        }
        else
        {
            // Stop: what was here before the first loss, then the stop.
            Assert.Equal([0], _receiver.Messages.Select(m => (int)m.Message[0]));
            Assert.Equal([((ushort)1, 2ul, 2ul)], _receiver.Unrecoverable);
        }
    }

    [Fact]
    public void OutOfOrderPacket_LongerThanTheDatagramSize_IsDroppedAndArrivesAgainAfterTheGap()
    {
        // A publisher with 8 KiB datagrams, a subscriber left at 1400 bytes: packet 3 cannot be buffered.
        var publisher = new MulticastPublisher(new MulticastOptions { DatagramSize = 8192 }, _published);
        var big = new byte[5000];
        for (var i = 0; i < 3; i++)
        {
            big[0] = (byte)i;
            publisher.TryOffer(big, 0, flush: true, now: 0);
        }

        var packets = _published.OfKind(PacketKind.Data).ToList();
        var subscriber = Subscriber(Options());
        subscriber.OnDatagram(packets[0], 0);
        subscriber.OnDatagram(packets[2], 0);
        Assert.Equal(1, subscriber.Counters.Dropped);

        subscriber.OnDatagram(packets[1], 10);
        subscriber.OnDatagram(packets[2], 20);
        Assert.Equal([0, 1, 2], _receiver.Messages.Select(m => (int)m.Message[0]));
    }

    private static MulticastOptions Options(int receiveBuffer = 64, MulticastJoin join = MulticastJoin.Latest) =>
        new() { NodeId = 2, ReceiveBufferPackets = receiveBuffer, Join = join };

    private MulticastSubscriber Subscriber(MulticastOptions options, byte[]? topics = null) =>
        new(options, _receiver, _naks, topics ?? []);

    /// <summary>Packets 1..count from publisher node 1, one one-byte message each (its index).</summary>
    private List<byte[]> Publish(int count)
    {
        var publisher = new MulticastPublisher(new MulticastOptions(), _published);
        for (var i = 0; i < count; i++)
        {
            publisher.TryOffer([(byte)i], 0, flush: true, now: 0);
        }

        return [.. _published.OfKind(PacketKind.Data)];
    }
}
