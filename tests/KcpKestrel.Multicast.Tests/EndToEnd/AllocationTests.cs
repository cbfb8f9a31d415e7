using KcpKestrel.Multicast.Publishing;
using KcpKestrel.Multicast.Subscribing;
using KcpKestrel.Multicast.Tests.Harness;
using KcpKestrel.Multicast.Wire;

namespace KcpKestrel.Multicast.Tests.EndToEnd;

/// <summary>The main path allocates nothing once warm: offer, batch, send, parse, deliver, reassemble, NAK, resend.</summary>
public sealed class AllocationTests
{
    [Fact]
    public void SteadyStateOfferAndDeliver_AllocatesNothing()
    {
        var receiver = new CheckingReceiver();
        var link = new DirectLink();
        var publisher = new MulticastPublisher(new MulticastOptions { PacketsPerSecond = 1_000_000 }, link);
        var subscriber = new MulticastSubscriber(new MulticastOptions { NodeId = 2 }, receiver, link, []);
        link.Subscriber = subscriber;
        link.Publisher = publisher;
        var message = new byte[5000];
        var now = 0L;
        var index = 0;

        void Run(int count)
        {
            for (var i = 0; i < count; i++, index++)
            {
                now += 10;
                link.Now = now;
                var length = SequenceMessages.Write(message, index, index % 50 == 0 ? 5000 : 70);
                Assert.True(publisher.TryOffer(message.AsSpan(0, length), 1, flush: index % 8 == 0, now));
                publisher.Poll(now);
                subscriber.Poll(now);
            }
        }

        Run(20_000);
        var allocated = SteadyStateAllocations.Measure(() => Run(50_000));

        Assert.Equal(0, allocated);
        Assert.Equal(0, receiver.Duplicates + receiver.OutOfOrder + receiver.Corrupt);
        Assert.True(receiver.InOrder > 69_000);
    }

    [Fact]
    public void SteadyStateLossAndRepair_AllocatesNothing()
    {
        var receiver = new CheckingReceiver();
        var link = new DirectLink { DropEvery = 7 };
        var publisher = new MulticastPublisher(new MulticastOptions(), link);
        var subscriber = new MulticastSubscriber(new MulticastOptions { NodeId = 2, ReorderWait = TimeSpan.Zero }, receiver, link, []);
        link.Subscriber = subscriber;
        link.Publisher = publisher;
        var message = new byte[70];
        var now = 0L;
        var index = 0;

        void Run(int count)
        {
            for (var i = 0; i < count; i++, index++)
            {
                now += 100;
                link.Now = now;
                publisher.TryOffer(message.AsSpan(0, SequenceMessages.Write(message, index, 70)), 1, flush: true, now);
                publisher.Poll(now);
                subscriber.Poll(now);
            }
        }

        Run(20_000);
        var allocated = SteadyStateAllocations.Measure(() => Run(20_000));

        Assert.Equal(0, allocated);
        Assert.True(publisher.Counters.Retransmits > 1000);
        Assert.Equal(0, receiver.Duplicates + receiver.OutOfOrder + receiver.Corrupt);
    }

    [Fact]
    public void SubscriberNakingFarBehind_DoesNotGrowThePublisher()
    {
        var sink = new CountingSink();
        // Without the congestion response, which would slow the offers these NAKs are meant to interleave with.
        var publisher = new MulticastPublisher(new MulticastOptions { HistoryPackets = 64, CongestionControl = false }, sink);
        var nak = new byte[ControlPackets.MaxSize];
        var message = new byte[70];

        void Run(int count, long start)
        {
            for (var i = 0; i < count; i++)
            {
                var now = start + (i * 10L);
                publisher.TryOffer(message, 1, flush: true, now);

                // A subscriber stuck at the beginning keeps asking for everything it missed.
                var length = ControlPackets.WriteNak(nak, source: 2, publisher: 1, stream: 1, first: 1, count: PacketHeader.MaxNakCount);
                publisher.OnDatagram(nak.AsSpan(0, length), now);
                publisher.Poll(now);
            }
        }

        Run(2_000, 0);
        var start = 1_000_000L;
        var allocated = SteadyStateAllocations.Measure(() =>
        {
            Run(20_000, start);
            start += 1_000_000;
        });

        Assert.Equal(0, allocated);
        Assert.True(publisher.Counters.NaksGone > 1_000_000);
        Assert.True(sink.Gone > 19_000);
    }

    private sealed class CountingSink : IDatagramSink
    {
        public long Gone { get; private set; }

        public void Send(ReadOnlySpan<byte> datagram) => Gone += (PacketKind)datagram[2] == PacketKind.Gone ? 1 : 0;
    }

    /// <summary>Hands datagrams straight across, dropping every Nth Data packet sent the first time.</summary>
    private sealed class DirectLink : IDatagramSink
    {
        private long _sent;

        public MulticastSubscriber Subscriber { get; set; } = null!;

        public MulticastPublisher Publisher { get; set; } = null!;

        public int DropEvery { get; init; }

        public long Now { get; set; }

        public void Send(ReadOnlySpan<byte> datagram)
        {
            switch ((PacketKind)datagram[2])
            {
                case PacketKind.Nak:
                    Publisher.OnDatagram(datagram, Now);
                    break;
                case PacketKind.Data when DropEvery > 0 && (datagram[3] & 1) == 0 && ++_sent % DropEvery == 0:
                    break;
                default:
                    Subscriber.OnDatagram(datagram, Now);
                    break;
            }
        }
    }
}
