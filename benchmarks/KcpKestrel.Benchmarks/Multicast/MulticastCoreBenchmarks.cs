using BenchmarkDotNet.Attributes;
using KcpKestrel.Multicast;
using KcpKestrel.Multicast.Publishing;
using KcpKestrel.Multicast.Subscribing;
using KcpKestrel.Multicast.Wire;

namespace KcpKestrel.Benchmarks.Multicast;

/// <summary>
/// The multicast protocol core alone (issue #20), no sockets: 70-byte messages offered without the
/// flush flag (batched into 1400-byte datagrams), handed straight to one subscriber that delivers
/// them. Per operation: one message. The ceiling the I/O shell can reach, not a network figure.
/// </summary>
[MemoryDiagnoser]
public class MulticastCoreBenchmarks
{
    private const int Messages = 100_000;
    private readonly byte[] _message = new byte[70];
    private MulticastPublisher _publisher = null!;
    private Link _link = null!;
    private long _now;

    /// <summary>Every Nth data packet is dropped on its first send and repaired by a NAK (0: no loss).</summary>
    [Params(0, 20)]
    public int DropEvery { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _link = new Link(DropEvery);
        _publisher = new MulticastPublisher(new MulticastOptions(), _link);
        _link.Publisher = _publisher;
        _link.Subscriber = new MulticastSubscriber(
            new MulticastOptions { NodeId = 2, ReorderWait = TimeSpan.Zero }, new CountingReceiver(), _link, []);
    }

    [Benchmark(OperationsPerInvoke = Messages)]
    public void OfferAndDeliver()
    {
        for (var i = 0; i < Messages; i++)
        {
            // 1 µs per message: the 1 ms auto-flush never fires before a batch is full.
            _now++;
            _link.Now = _now;
            _publisher.TryOffer(_message, 1, flush: false, _now);
            if ((i & 63) == 0)
            {
                _publisher.Poll(_now);
                _link.Subscriber.Poll(_now);
            }
        }
    }

    private sealed class CountingReceiver : IMulticastReceiver
    {
        public long Count { get; private set; }

        public void OnMessage(byte topic, ReadOnlySpan<byte> message) => Count += message.Length;
    }

    private sealed class Link(int dropEvery) : IDatagramSink
    {
        private long _sent;

        public MulticastPublisher Publisher { get; set; } = null!;

        public MulticastSubscriber Subscriber { get; set; } = null!;

        public long Now { get; set; }

        public void Send(ReadOnlySpan<byte> datagram)
        {
            var kind = (PacketKind)datagram[2];
            if (kind == PacketKind.Nak)
            {
                Publisher.OnDatagram(datagram, Now);
            }
            else if (kind != PacketKind.Data || dropEvery == 0 || (datagram[3] & 1) != 0 || ++_sent % dropEvery != 0)
            {
                Subscriber.OnDatagram(datagram, Now);
            }
        }
    }
}
