using KcpKestrel.Multicast.Codec;
using KcpKestrel.Multicast.Publishing;
using KcpKestrel.Multicast.Subscribing;
using KcpKestrel.Multicast.Tests.Harness;
using KcpKestrel.Multicast.Wire;

namespace KcpKestrel.Multicast.Tests.Fec;

/// <summary>FEC in the packet codec: parity over groups of Data packets rebuilds lost ones without a NAK.</summary>
public sealed class PacketFecTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private readonly CodecPair _pair = new();

    [Theory]
    [InlineData("none", 0)]
    [InlineData("none", 3)]
    [InlineData("aes-128-gcm", 0)]
    [InlineData("chacha20-poly1305", 7)]
    public void OneDataPacketOfAGroupDropped_IsRebuiltWithoutANak(string crypt, int dropped)
    {
        var (wire, subscriber, receiver, codec) = PublishEight(crypt, dataShards: 4, parityShards: 2);
        Assert.Equal(8 + 4, wire.Count);
        for (var i = 0; i < wire.Count; i++)
        {
            // On the wire each group's 4 Data packets are followed by its 2 Parity packets.
            if (i != (dropped / 4 * 6) + (dropped % 4))
            {
                codec.Receive(wire[i].ToArray(), 0, new ToSubscriber(subscriber, 0));
            }
        }

        PollFor(subscriber, 1_000_000);
        Assert.Equal((8, 0, 0), (receiver.InOrder, receiver.Duplicates, receiver.Corrupt));
        Assert.Equal(0, subscriber.Counters.NaksSent);
        Assert.Equal(1, codec.Counters.FecRecovered);
    }

    [Fact]
    public void AsManyLostAsParity_AllRebuilt_OneMoreLeftToNaks()
    {
        var (wire, subscriber, receiver, codec) = PublishEight("none", dataShards: 4, parityShards: 2);
        var lost = new HashSet<ulong> { 1, 3, 5, 6, 7 };
        foreach (var datagram in wire)
        {
            if ((PacketKind)datagram[2] == PacketKind.Data && lost.Contains(BitConverter.ToUInt64(datagram, 12)))
            {
                continue;
            }

            codec.Receive(datagram.ToArray(), 0, new ToSubscriber(subscriber, 0));
        }

        // Group 1 (1-4) lost two of four, rebuilt; group 2 (5-8) lost three, more than its two parity.
        Assert.Equal(2, codec.Counters.FecRecovered);
        Assert.Equal(4, receiver.InOrder);
        PollFor(subscriber, 1_000_000);
        Assert.True(subscriber.Counters.NaksSent > 0);
    }

    [Fact]
    public void ParityOfAnotherShape_IsDroppedAndCounted()
    {
        var (wire, subscriber, _, _) = PublishEight("none", dataShards: 4, parityShards: 2);
        var codec = _pair.Codec(CodecPair.Options(2, "none", dataShards: 5, parityShards: 2));
        foreach (var datagram in wire)
        {
            codec.Receive(datagram.ToArray(), 0, new ToSubscriber(subscriber, 0));
        }

        Assert.Equal(4, codec.Counters.ParityDropped);
        Assert.Equal(0, codec.Counters.FecRecovered);
    }

    [Fact]
    public void Publisher_WithCipherAndFec_KeepsEveryDatagramWithinDatagramSize()
    {
        var options = CodecPair.Options(1, "aes-256-gcm", dataShards: 10, parityShards: 3);
        options.DatagramSize = 600;
        var codec = _pair.Codec(options);
        var wire = new RecordingSink();
        var publisher = new MulticastPublisher(options, new SealingSink(codec, wire), codec.Overhead);
        var message = new byte[5000];
        for (var i = 0; i < 40; i++)
        {
            Assert.True(publisher.TryOffer(message.AsSpan(0, 1 + (i * 131 % 5000)), topic: 1, flush: i % 3 == 0, now: i));
        }

        publisher.Poll(1_000_000);
        Assert.True(codec.Counters.ParitySent > 0);
        Assert.All(wire.Sent, d => Assert.InRange(d.Length, 1, 600));
        Assert.Contains(wire.Sent, d => d.Length == 600);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void FivePercentLoss_Fec10Of3_FewerNaksThanWithout_EveryMessageInOrder(int seed)
    {
        var without = Run(new MulticastOptions(), seed);
        var with = Run(new MulticastOptions { DataShards = 10, ParityShards = 3 }, seed);
        output.WriteLine($"seed {seed}: NAKs sent without FEC {without}, with FEC 10/3 {with}");
        Assert.True(with < without, $"{with} NAKs with FEC, {without} without");
    }

    private static long Run(MulticastOptions options, int seed)
    {
        const int Messages = 5000;
        var network = new MulticastNetwork(options, subscribers: 2, dropRate: 0.05, reorderRate: 0, seed, codecs: options.DataShards > 0);
        for (var i = 0; i < Messages; i++)
        {
            Assert.True(network.Offer(i, i % 97 == 0 ? 3000 + i : 70, flush: i % 10 == 0));
            if (i % 5 == 0)
            {
                network.Step();
            }
        }

        network.RunUntilDelivered(Messages, maxMicros: 30_000_000);
        long naks = 0;
        for (var s = 0; s < network.Count; s++)
        {
            var receiver = network.Receiver(s);
            Assert.Equal((Messages, 0, 0, 0, 0L), (receiver.InOrder, receiver.Duplicates, receiver.OutOfOrder, receiver.Corrupt, receiver.Unrecoverable));
            naks += network.Subscriber(s).Counters.NaksSent;
            if (options.DataShards > 0)
            {
                Assert.True(network.Codec(s)!.Counters.FecRecovered > 0);
            }
        }

        return naks;
    }

    /// <summary>Eight flushed messages from node 1 through a codec: the wire datagrams, and a subscriber with its own codec.</summary>
    private (List<byte[]> Wire, MulticastSubscriber Subscriber, CheckingReceiver Receiver, MulticastPacketCodec Codec) PublishEight(string crypt, int dataShards, int parityShards)
    {
        var publisherCodec = _pair.Codec(CodecPair.Options(1, crypt, dataShards, parityShards));
        var wire = new RecordingSink();
        var publisher = new MulticastPublisher(CodecPair.Options(1, crypt, dataShards, parityShards), new SealingSink(publisherCodec, wire), publisherCodec.Overhead);
        var message = new byte[100];
        for (var i = 0; i < 8; i++)
        {
            Assert.True(publisher.TryOffer(message.AsSpan(0, SequenceMessages.Write(message, i, 30 + (i * 9))), topic: 1, flush: true, now: 0));
        }

        var subscriberOptions = CodecPair.Options(2, crypt, 4, 2);
        subscriberOptions.Join = MulticastJoin.Beginning;
        var receiver = new CheckingReceiver();
        var subscriber = new MulticastSubscriber(subscriberOptions, receiver, new RecordingSink(), []);
        return (wire.Sent, subscriber, receiver, _pair.Codec(subscriberOptions));
    }

    private static void PollFor(MulticastSubscriber subscriber, long micros)
    {
        for (long now = 0; now <= micros; now += 100)
        {
            subscriber.Poll(now);
        }
    }

    private sealed class ToSubscriber(MulticastSubscriber subscriber, long now) : IDatagramSink
    {
        public void Send(ReadOnlySpan<byte> datagram) => subscriber.OnDatagram(datagram, now);
    }
}
