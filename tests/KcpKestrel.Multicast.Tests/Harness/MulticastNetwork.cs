using KcpKestrel.Multicast.Codec;
using KcpKestrel.Multicast.Publishing;
using KcpKestrel.Multicast.Subscribing;
using KcpKestrel.Multicast.Wire;

namespace KcpKestrel.Multicast.Tests.Harness;

/// <summary>
/// One publisher and N subscribers joined by <see cref="LossyLink"/>s (one per direction per
/// subscriber), on a manual clock in microseconds. Everything is deterministic for given seeds.
/// </summary>
internal sealed class MulticastNetwork
{
    private readonly List<Member> _members = [];
    private readonly byte[] _message;
    private readonly MulticastPacketCodec? _publisherCodec;

    /// <param name="codecs">
    /// Puts a <see cref="MulticastPacketCodec"/> (cipher, FEC) on every member, built from its options; the
    /// subscribers' options get <paramref name="publisherOptions"/>' Crypt, Key and shards.
    /// </param>
    public MulticastNetwork(MulticastOptions publisherOptions, int subscribers, double dropRate, double reorderRate, int seed, Action<MulticastOptions>? subscriberOptions = null, long delay = 100, bool codecs = false)
    {
        _publisherCodec = codecs ? new MulticastPacketCodec(publisherOptions) : null;
        Publisher = new MulticastPublisher(
            publisherOptions, _publisherCodec is null ? new ToSubscribers(this) : new SealingSink(_publisherCodec, new ToSubscribers(this)), _publisherCodec?.Overhead ?? 0);
        _message = new byte[publisherOptions.MaxMessageSize];
        for (var i = 0; i < subscribers; i++)
        {
            var options = new MulticastOptions { NodeId = (ushort)(100 + i), Join = MulticastJoin.Beginning, ReorderWait = TimeSpan.FromMicroseconds(300) };
            (options.Crypt, options.Key, options.DataShards, options.ParityShards)
                = (publisherOptions.Crypt, publisherOptions.Key, publisherOptions.DataShards, publisherOptions.ParityShards);
            subscriberOptions?.Invoke(options);
            var member = new Member(
                new LossyLink(seed * 31 + (2 * i), dropRate, reorderRate, delay),
                new LossyLink(seed * 31 + (2 * i) + 1, dropRate, reorderRate, delay),
                new CheckingReceiver());
            IDatagramSink up = new ToPublisher(this, member);
            if (codecs)
            {
                member.Codec = new MulticastPacketCodec(options);
                up = new SealingSink(member.Codec, up);
            }

            member.Subscriber = new MulticastSubscriber(options, member.Receiver, up, []);
            _members.Add(member);
        }
    }

    public long Now { get; private set; }

    /// <summary>Subscriber <paramref name="i"/>'s codec (with <c>codecs</c>).</summary>
    public MulticastPacketCodec? Codec(int i) => _members[i].Codec;

    public MulticastPublisher Publisher { get; }

    /// <summary>Data packets the publisher sent, per simulated second (index: second).</summary>
    public List<int> DataPacketsPerSecond { get; } = [0];

    public int Count => _members.Count;

    /// <summary>Datagrams each subscriber reads per <see cref="Step"/> at most: a subscriber slower than its publisher.</summary>
    public int ReadsPerStep { get; set; } = int.MaxValue;

    public CheckingReceiver Receiver(int i) => _members[i].Receiver;

    public MulticastSubscriber Subscriber(int i) => _members[i].Subscriber;

    public LossyLink Down(int i) => _members[i].Down;

    /// <summary>Offers message <paramref name="index"/> of <paramref name="length"/> bytes; false when the rate limit refused it.</summary>
    public bool Offer(int index, int length, bool flush) =>
        Publisher.TryOffer(_message.AsSpan(0, SequenceMessages.Write(_message, index, length)), topic: 1, flush, Now);

    /// <summary>Moves the clock by <paramref name="micros"/>, delivers what is due, polls everyone.</summary>
    public void Step(long micros = 50)
    {
        Now += micros;
        while (DataPacketsPerSecond.Count <= Now / 1_000_000)
        {
            DataPacketsPerSecond.Add(0);
        }

        foreach (var member in _members)
        {
            for (var reads = 0; reads < ReadsPerStep && member.Down.TryReceive(Now, out var datagram); reads++)
            {
                if (member.Codec is null)
                {
                    member.Subscriber.OnDatagram(datagram, Now);
                }
                else
                {
                    member.Codec.Receive(datagram, Now, new Opened(d => member.Subscriber.OnDatagram(d, Now)));
                }
            }

            while (member.Up.TryReceive(Now, out var datagram))
            {
                if (_publisherCodec is null)
                {
                    Publisher.OnDatagram(datagram, Now);
                }
                else
                {
                    _publisherCodec.Receive(datagram, Now, new Opened(d => Publisher.OnDatagram(d, Now)));
                }
            }
        }

        Publisher.Poll(Now);
        foreach (var member in _members)
        {
            member.Subscriber.Poll(Now);
        }
    }

    /// <summary>Steps until every receiver saw <paramref name="messages"/> messages, or fails past <paramref name="maxMicros"/>.</summary>
    public void RunUntilDelivered(int messages, long maxMicros)
    {
        var deadline = Now + maxMicros;
        while (_members.Any(m => m.Receiver.Next < messages))
        {
            Assert.True(Now < deadline, $"not delivered by {maxMicros} µs: {string.Join(", ", _members.Select(m => m.Receiver.Next))}");
            Step();
        }
    }

    private sealed class Member(LossyLink down, LossyLink up, CheckingReceiver receiver)
    {
        public LossyLink Down { get; } = down;

        public LossyLink Up { get; } = up;

        public CheckingReceiver Receiver { get; } = receiver;

        public MulticastSubscriber Subscriber { get; set; } = null!;

        public MulticastPacketCodec? Codec { get; set; }
    }

    private delegate void SpanAction(ReadOnlySpan<byte> datagram);

    private sealed class Opened(SpanAction deliver) : IDatagramSink
    {
        public void Send(ReadOnlySpan<byte> datagram) => deliver(datagram);
    }

    /// <summary>The group: every datagram the publisher sends goes down every subscriber's link.</summary>
    private sealed class ToSubscribers(MulticastNetwork network) : IDatagramSink
    {
        public void Send(ReadOnlySpan<byte> datagram)
        {
            if ((PacketKind)datagram[2] == PacketKind.Data)
            {
                network.DataPacketsPerSecond[^1]++;
            }

            foreach (var member in network._members)
            {
                member.Down.Send(datagram, network.Now);
            }
        }
    }

    private sealed class ToPublisher(MulticastNetwork network, Member member) : IDatagramSink
    {
        public void Send(ReadOnlySpan<byte> datagram) => member.Up.Send(datagram, network.Now);
    }
}
