using KcpKestrel.Multicast.Publishing;
using KcpKestrel.Multicast.Subscribing;
using KcpKestrel.Multicast.Tests.Harness;
using KcpKestrel.Multicast.Wire;

namespace KcpKestrel.Multicast.Tests.Security;

/// <summary>The packet codec's cipher: forged datagrams and replays are dropped and counted, never delivered.</summary>
public sealed class PacketCipherTests
{
    private readonly CodecPair _pair = new();

    [Theory]
    [InlineData("aes-128-gcm")]
    [InlineData("aes-256-gcm")]
    [InlineData("chacha20-poly1305")]
    public void SealedPacket_OpensToTheSameBytes(string crypt)
    {
        var sender = _pair.Codec(CodecPair.Options(1, crypt));
        var receiver = _pair.Codec(CodecPair.Options(2, crypt));
        var packet = Heartbeat(node: 1, latest: 5);

        var wire = Assert.Single(CodecPair.Seal(sender, packet));
        Assert.Equal(packet.Length + 28, wire.Length);
        Assert.NotEqual(packet, wire.AsSpan(12, packet.Length).ToArray());
        Assert.Equal(packet, Assert.Single(CodecPair.Deliver(receiver, wire)));
    }

    [Theory]
    [InlineData(0)] // the sender id
    [InlineData(4)] // the counter
    [InlineData(12)] // the ciphertext's first byte (the magic)
    [InlineData(25)] // the ciphertext's kind byte
    [InlineData(-1)] // the tag
    public void BitFlipped_IsDroppedAndCountedAsForged(int position)
    {
        var sender = _pair.Codec(CodecPair.Options(1));
        var receiver = _pair.Codec(CodecPair.Options(2));
        var wire = Assert.Single(CodecPair.Seal(sender, Heartbeat(node: 1, latest: 5)));
        wire[position < 0 ? wire.Length + position : position] ^= 0x01;

        Assert.Empty(CodecPair.Deliver(receiver, wire));
        Assert.Equal(1, receiver.Counters.ForgedDropped);
        Assert.Equal(0, receiver.Counters.ReplaysDropped);
    }

    [Fact]
    public void WrongKey_IsDroppedAndCountedAsForged()
    {
        var sender = _pair.Codec(CodecPair.Options(1, key: "another key"));
        var receiver = _pair.Codec(CodecPair.Options(2));

        Assert.Empty(CodecPair.Deliver(receiver, Assert.Single(CodecPair.Seal(sender, Heartbeat(node: 1, latest: 5)))));
        Assert.Equal(1, receiver.Counters.ForgedDropped);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(27)]
    [InlineData(40)]
    public void Truncated_IsDroppedAndCountedAsForged(int length)
    {
        var sender = _pair.Codec(CodecPair.Options(1));
        var receiver = _pair.Codec(CodecPair.Options(2));
        var wire = Assert.Single(CodecPair.Seal(sender, Heartbeat(node: 1, latest: 5)));

        Assert.Empty(CodecPair.Deliver(receiver, wire[..length]));
        Assert.Equal(1, receiver.Counters.ForgedDropped);
    }

    [Fact]
    public void ForgedLength_BytesAppendedOrCut_IsDroppedAndCounted()
    {
        var sender = _pair.Codec(CodecPair.Options(1));
        var receiver = _pair.Codec(CodecPair.Options(2));
        var wire = Assert.Single(CodecPair.Seal(sender, Data(node: 1, sequence: 1, payload: 100)));

        Assert.Empty(CodecPair.Deliver(receiver, [.. wire, .. new byte[16]]));
        Assert.Empty(CodecPair.Deliver(receiver, wire[..^1]));
        Assert.Equal(2, receiver.Counters.ForgedDropped);
        Assert.Single(CodecPair.Deliver(receiver, wire));
    }

    [Fact]
    public void PlainPacket_FromASenderWithoutTheCipher_IsDroppedAndCounted()
    {
        var receiver = _pair.Codec(CodecPair.Options(2));

        Assert.Empty(CodecPair.Deliver(receiver, Data(node: 1, sequence: 1, payload: 100)));
        Assert.Equal(1, receiver.Counters.ForgedDropped);
    }

    [Fact]
    public void CapturedDataHeartbeatAndNak_ReplayedLater_AreDroppedAndCounted()
    {
        var publisher = _pair.Codec(CodecPair.Options(1));
        var subscriber = _pair.Codec(CodecPair.Options(2));
        var receiver = _pair.Codec(CodecPair.Options(3));
        var captured = new List<byte[]>
        {
            Assert.Single(CodecPair.Seal(publisher, Data(node: 1, sequence: 1, payload: 70))),
            Assert.Single(CodecPair.Seal(publisher, Heartbeat(node: 1, latest: 1))),
            Assert.Single(CodecPair.Seal(subscriber, Nak(source: 2, publisher: 1, first: 1))),
        };
        foreach (var datagram in captured)
        {
            Assert.Single(CodecPair.Deliver(receiver, datagram));
        }

        // At once, then within the window's reach, then after the senders' windows could be forgotten.
        foreach (var later in new[] { TimeSpan.Zero, TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(5) })
        {
            _pair.Clock.Advance(later);
            foreach (var datagram in captured)
            {
                Assert.Empty(CodecPair.Deliver(receiver, datagram));
            }
        }

        Assert.Equal(9, receiver.Counters.ReplaysDropped);
        Assert.Equal(0, receiver.Counters.ForgedDropped);
    }

    [Fact]
    public void CapturedPacket_ReplayedToAReceiverThatNeverSawItsSender_IsDroppedOnceOlderThanTheSkew()
    {
        var publisher = _pair.Codec(CodecPair.Options(1));
        var wire = Assert.Single(CodecPair.Seal(publisher, Heartbeat(node: 1, latest: 9)));
        _pair.Clock.Advance(TimeSpan.FromSeconds(31));

        // A gone publisher's heartbeat must not bring it back for a subscriber started since.
        var lateReceiver = _pair.Codec(CodecPair.Options(3));
        Assert.Empty(CodecPair.Deliver(lateReceiver, wire));
        Assert.Equal(1, lateReceiver.Counters.ReplaysDropped);
    }

    [Fact]
    public void SenderTable_Full_RefusesNewSendersUntilOneIsSilentLongerThanTheSkew()
    {
        var receiverOptions = CodecPair.Options(99);
        receiverOptions.MaxSenders = 16;
        var receiver = _pair.Codec(receiverOptions);
        var first = new List<byte[]>();
        for (var i = 0; i < 16; i++)
        {
            var wire = Assert.Single(CodecPair.Seal(_pair.Codec(CodecPair.Options((ushort)(i + 1))), Heartbeat(node: (ushort)(i + 1), latest: 1)));
            first.Add(wire);
            Assert.Single(CodecPair.Deliver(receiver, wire));
        }

        var newcomer = _pair.Codec(CodecPair.Options(50));
        Assert.Empty(CodecPair.Deliver(receiver, Assert.Single(CodecPair.Seal(newcomer, Heartbeat(node: 50, latest: 1)))));
        Assert.Equal(1, receiver.Counters.SendersRefused);

        // Every window has aged past the skew: one makes room, and its sender's old packets stay refused.
        _pair.Clock.Advance(TimeSpan.FromSeconds(31));
        Assert.Single(CodecPair.Deliver(receiver, Assert.Single(CodecPair.Seal(newcomer, Heartbeat(node: 50, latest: 2)))));
        foreach (var wire in first)
        {
            Assert.Empty(CodecPair.Deliver(receiver, wire));
        }

        Assert.Equal(16, receiver.Counters.ReplaysDropped);
    }

    [Fact]
    public void ReorderedWithinTheWindow_EveryDatagramDeliveredOnce()
    {
        var sender = _pair.Codec(CodecPair.Options(1));
        var receiver = _pair.Codec(CodecPair.Options(2));
        var sealedPackets = new List<byte[]>();
        for (ulong sequence = 1; sequence <= 50; sequence++)
        {
            sealedPackets.Add(Assert.Single(CodecPair.Seal(sender, Data(node: 1, sequence, payload: 70))));
            _pair.Clock.Advance(TimeSpan.FromMicroseconds(37));
        }

        // Newest first, then the rest in order: late but unseen counters are fresh, seen ones are not.
        var delivered = CodecPair.Deliver(receiver, sealedPackets[^1]).Count;
        foreach (var datagram in sealedPackets)
        {
            delivered += CodecPair.Deliver(receiver, datagram).Count;
        }

        Assert.Equal(50, delivered);
        Assert.Equal(1, receiver.Counters.ReplaysDropped);
    }

    [Fact]
    public void SenderClockFarAhead_IsRefusedAsAReplay()
    {
        var receiver = _pair.Codec(CodecPair.Options(2));
        _pair.Clock.Advance(TimeSpan.FromMinutes(1));
        var ahead = _pair.Codec(CodecPair.Options(1));
        var wire = Assert.Single(CodecPair.Seal(ahead, Heartbeat(node: 1, latest: 1)));
        _pair.Clock.Advance(TimeSpan.FromMinutes(-1));

        Assert.Empty(CodecPair.Deliver(receiver, wire));
        Assert.Equal(1, receiver.Counters.ReplaysDropped);
    }

    [Fact]
    public void TwoPublishersOneKey_BothDeliveredInterleaved()
    {
        var a = _pair.Codec(CodecPair.Options(1));
        var b = _pair.Codec(CodecPair.Options(2));
        var receiver = _pair.Codec(CodecPair.Options(3));
        Assert.NotEqual(a.SenderId, b.SenderId);
        var delivered = 0;
        for (ulong sequence = 1; sequence <= 100; sequence++)
        {
            delivered += CodecPair.Deliver(receiver, Assert.Single(CodecPair.Seal(a, Data(node: 1, sequence, payload: 70)))).Count;
            delivered += CodecPair.Deliver(receiver, Assert.Single(CodecPair.Seal(b, Data(node: 2, sequence, payload: 70)))).Count;
        }

        Assert.Equal(200, delivered);
        Assert.Equal((0, 0), (receiver.Counters.ForgedDropped, receiver.Counters.ReplaysDropped));
    }

    [Fact]
    public void TwoPublishersOneKey_ThroughTheCore_EveryMessageOfBothDelivered()
    {
        var wire = new RecordingSink();
        var publishers = new List<MulticastPublisher>();
        foreach (ushort node in new[] { 1, 2 })
        {
            var codec = _pair.Codec(CodecPair.Options(node));
            publishers.Add(new MulticastPublisher(CodecPair.Options(node), new SealingSink(codec, wire), codec.Overhead));
        }

        var message = new byte[70];
        for (var i = 0; i < 100; i++)
        {
            message[0] = (byte)i;
            Assert.True(publishers[i % 2].TryOffer(message, topic: 1, flush: true, now: 0));
        }

        var subscriberOptions = CodecPair.Options(3);
        subscriberOptions.Join = MulticastJoin.Beginning;
        var receiver = new RecordingReceiver();
        var subscriber = new MulticastSubscriber(subscriberOptions, receiver, new RecordingSink(), []);
        var subscriberCodec = _pair.Codec(subscriberOptions);
        foreach (var datagram in wire.Sent)
        {
            subscriberCodec.Receive(datagram, 0, new SubscriberInput(subscriber));
        }

        Assert.Equal(Enumerable.Range(0, 100).Select(i => (byte)i).Order(), receiver.Messages.Select(m => m.Message[0]).Order());
        Assert.Equal((0, 0), (subscriberCodec.Counters.ForgedDropped, subscriberCodec.Counters.ReplaysDropped));
    }

    [Fact]
    public void ReplayedNak_MakesThePublisherResendNothing()
    {
        var publisherCodec = _pair.Codec(CodecPair.Options(1));
        var subscriberCodec = _pair.Codec(CodecPair.Options(2));
        var publisher = new MulticastPublisher(CodecPair.Options(1), new RecordingSink(), publisherCodec.Overhead);
        var message = new byte[70];
        for (var i = 0; i < 5; i++)
        {
            Assert.True(publisher.TryOffer(message, topic: 1, flush: true, now: 0));
        }

        var nak = Assert.Single(CodecPair.Seal(subscriberCodec, Nak(source: 2, publisher: 1, first: 2)));
        var sink = new PublisherInput(publisher);
        publisherCodec.Receive(nak.ToArray(), 0, sink.At(1_000));
        Assert.Equal(1, publisher.Counters.Retransmits);

        // Well past the NAK suppress window, so only the replay check can stop the resend.
        publisherCodec.Receive(nak.ToArray(), 0, sink.At(1_000_000));
        Assert.Equal(1, publisher.Counters.Retransmits);
        Assert.Equal(1, publisher.Counters.NaksReceived);
        Assert.Equal(1, publisherCodec.Counters.ReplaysDropped);
    }

    [Fact]
    public void OwnDatagramLoopedBack_IsSkippedUncounted()
    {
        var codec = _pair.Codec(CodecPair.Options(1));
        Assert.Empty(CodecPair.Deliver(codec, Assert.Single(CodecPair.Seal(codec, Heartbeat(node: 1, latest: 1)))));
        Assert.Equal((0, 0), (codec.Counters.ForgedDropped, codec.Counters.ReplaysDropped));
    }

    internal static byte[] Heartbeat(ushort node, ulong latest)
    {
        var packet = new byte[ControlPackets.MaxSize];
        return packet[..ControlPackets.WriteHeartbeat(packet, PacketFlags.None, node, 1, latest, 1)];
    }

    internal static byte[] Nak(ushort source, ushort publisher, ulong first)
    {
        var packet = new byte[ControlPackets.MaxSize];
        return packet[..ControlPackets.WriteNak(packet, source, publisher, stream: 1, first, count: 1)];
    }

    internal static byte[] Data(ushort node, ulong sequence, int payload)
    {
        var packet = new byte[PacketHeader.Size + Frame.WholeHeaderSize + payload];
        new PacketHeader(PacketKind.Data, PacketFlags.None, node, PacketHeader.Everyone, 1, sequence).Write(packet);
        FrameWriter.WriteWhole(packet.AsSpan(PacketHeader.Size), topic: 1, new byte[payload]);
        return packet;
    }

    private sealed class SubscriberInput(MulticastSubscriber subscriber) : IDatagramSink
    {
        public void Send(ReadOnlySpan<byte> datagram) => subscriber.OnDatagram(datagram, 0);
    }

    /// <summary>Hands opened datagrams to a publisher at a chosen core time.</summary>
    private sealed class PublisherInput(MulticastPublisher publisher) : IDatagramSink
    {
        private long _now;

        public PublisherInput At(long now)
        {
            _now = now;
            return this;
        }

        public void Send(ReadOnlySpan<byte> datagram) => publisher.OnDatagram(datagram, _now);
    }
}
