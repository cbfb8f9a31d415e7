using KcpKestrel.Multicast.Codec;
using KcpKestrel.Multicast.Publishing;
using KcpKestrel.Multicast.Subscribing;
using KcpKestrel.Multicast.Tests.Harness;

namespace KcpKestrel.Multicast.Tests.Security;

/// <summary>Seal, open, the replay check, FEC encode and rebuild allocate nothing once warm.</summary>
public sealed class CodecAllocationTests
{
    [Theory]
    [InlineData("aes-128-gcm", 0)]
    [InlineData("aes-128-gcm", 10)]
    [InlineData("chacha20-poly1305", 10)]
    [InlineData("none", 10)]
    public void SteadyStateSealOpenAndFecRebuild_AllocatesNothing(string crypt, int dataShards)
    {
        var pair = new CodecPair();
        var parityShards = dataShards > 0 ? 3 : 0;
        var receiver = new CheckingReceiver();
        var subscriberOptions = CodecPair.Options(2, crypt, dataShards, parityShards);
        subscriberOptions.Join = MulticastJoin.Beginning;
        var subscriber = new MulticastSubscriber(subscriberOptions, receiver, new DiscardSink(), []);
        var subscriberCodec = pair.Codec(subscriberOptions);
        var wire = new LossyWire(subscriberCodec, subscriber);
        var publisherOptions = CodecPair.Options(1, crypt, dataShards, parityShards);
        var codec = pair.Codec(publisherOptions);
        var publisher = new MulticastPublisher(publisherOptions, new SealingSink(codec, wire), codec.Overhead);
        var message = new byte[200];
        var index = 0;

        void Run(int count)
        {
            for (var i = 0; i < count; i++, index++)
            {
                // The 4th packet of every group lost on the wire, so each group is rebuilt (with FEC). One
                // loss pattern: a new pattern inverts (and caches) a decode matrix once, not in steady state.
                wire.Drop = dataShards > 0 && index % dataShards == 3;
                Assert.True(publisher.TryOffer(message.AsSpan(0, SequenceMessages.Write(message, index, 200)), 1, flush: true, now: 0));
                pair.Clock.Advance(TimeSpan.FromMicroseconds(3));
            }
        }

        Run(20_000);
        var before = GC.GetAllocatedBytesForCurrentThread();
        Run(20_000);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.Equal((40_000, 0), (receiver.InOrder, receiver.Duplicates + receiver.Corrupt));
        Assert.Equal(0, subscriberCodec.Counters.ForgedDropped + subscriberCodec.Counters.ReplaysDropped);
        Assert.Equal(dataShards > 0 ? 4000 : 0, subscriberCodec.Counters.FecRecovered);
    }

    private sealed class DiscardSink : IDatagramSink
    {
        public void Send(ReadOnlySpan<byte> datagram)
        {
        }
    }

    /// <summary>Straight into the subscriber's codec (receive buffer reused), dropping the datagram when told.</summary>
    private sealed class LossyWire(MulticastPacketCodec codec, MulticastSubscriber subscriber) : IDatagramSink
    {
        private readonly byte[] _buffer = new byte[MulticastOptions.MaxDatagramSize];
        private readonly Core _core = new(subscriber);

        public bool Drop { get; set; }

        public void Send(ReadOnlySpan<byte> datagram)
        {
            if (Drop)
            {
                Drop = false;
                return;
            }

            datagram.CopyTo(_buffer);
            codec.Receive(_buffer.AsSpan(0, datagram.Length), 0, _core);
        }

        private sealed class Core(MulticastSubscriber subscriber) : IDatagramSink
        {
            public void Send(ReadOnlySpan<byte> datagram) => subscriber.OnDatagram(datagram, 0);
        }
    }
}
