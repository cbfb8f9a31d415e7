using KcpKestrel.Multicast.Wire;

namespace KcpKestrel.Multicast.Subscribing;

/// <summary>
/// A subscriber's protocol state, with no I/O and no clock: <see cref="OnDatagram"/> takes what the
/// group delivered, <see cref="Poll"/> what time it is (microseconds); NAKs go to the sink and
/// messages to the receiver, in order per publisher stream, filtered by topic. One thread at a time.
/// </summary>
internal sealed class MulticastSubscriber
{
    private readonly Dictionary<ulong, PublisherTrack> _tracks = [];
    private readonly bool[] _topics = new bool[256];
    private readonly byte[] _control = new byte[ControlPackets.MaxSize];
    private readonly IDatagramSink _sink;
    private readonly ushort _node;
    private readonly int _maxPublishers;

    /// <param name="options">Validated here.</param>
    /// <param name="receiver">Gets the messages and the loss signals.</param>
    /// <param name="sink">Sends the NAKs.</param>
    /// <param name="topics">The topics to deliver; empty: all of them.</param>
    public MulticastSubscriber(MulticastOptions options, IMulticastReceiver receiver, IDatagramSink sink, ReadOnlySpan<byte> topics)
    {
        options.Validate();
        Receiver = receiver;
        _sink = sink;
        _node = options.NodeId;
        _maxPublishers = options.MaxPublishers;
        ReceiveBufferPackets = options.ReceiveBufferPackets;
        DatagramSize = options.DatagramSize;
        MaxMessageSize = options.MaxMessageSize;
        ReorderWait = MulticastOptions.Micros(options.ReorderWait);
        NakRetry = MulticastOptions.Micros(options.NakRetry);
        NakRetryMax = MulticastOptions.Micros(options.NakRetryMax);
        PublisherTimeout = MulticastOptions.Micros(options.PublisherTimeout);
        Join = options.Join;
        GapPolicy = options.OnUnrecoverable;
        foreach (var topic in topics)
        {
            _topics[topic] = true;
        }

        if (topics.IsEmpty)
        {
            Array.Fill(_topics, true);
        }
    }

    public SubscriberCounters Counters { get; } = new();

    /// <summary>
    /// The earliest deadline (a NAK after a gap, a new publisher's timeout) that datagrams set since the
    /// last <see cref="Poll"/>, which resets it to what it returns: the I/O shell wakes its timer when
    /// this is earlier than the time it sleeps until.
    /// </summary>
    public long NextDue { get; private set; } = long.MaxValue;

    internal IMulticastReceiver Receiver { get; }

    /// <summary>Called when a publisher stream is first heard (logging; rare, off the per-packet path).</summary>
    internal Action<ushort, uint>? PublisherHeard { get; set; }

    internal int ReceiveBufferPackets { get; }

    internal int DatagramSize { get; }

    internal int MaxMessageSize { get; }

    internal long ReorderWait { get; }

    internal long NakRetry { get; }

    internal long NakRetryMax { get; }

    internal long PublisherTimeout { get; }

    internal MulticastJoin Join { get; }

    internal MulticastGapPolicy GapPolicy { get; }

    /// <summary>The track of a publisher stream, if one was heard (tests and metrics).</summary>
    public PublisherTrack? Track(ushort node, uint stream) => _tracks.GetValueOrDefault(Key(node, stream));

    public void OnDatagram(ReadOnlySpan<byte> datagram, long now)
    {
        if (PacketHeader.TryRead(datagram, out var header) != ParseStatus.Ok
            || header.Kind == PacketKind.Nak
            || (header.Target != PacketHeader.Everyone && header.Target != _node)
            || (header.Kind == PacketKind.Gone && header.Target != _node))
        {
            Counters.Dropped++;
            return;
        }

        var track = Find(header.Source, header.Stream);
        if (track is null)
        {
            Counters.Dropped++;
            return;
        }

        switch (header.Kind)
        {
            case PacketKind.Data:
                Counters.Packets++;
                track.OnData(header, datagram, now);
                break;
            case PacketKind.Heartbeat:
                track.OnHeartbeat(header, PacketHeader.ReadOldest(datagram, PacketKind.Heartbeat), now);
                break;
            default:
                track.OnGone(PacketHeader.ReadOldest(datagram, PacketKind.Gone), now);
                break;
        }

        NextDue = Math.Min(NextDue, track.Due);
    }

    /// <summary>Sends the NAKs that are due; returns when to call again (<see cref="long.MaxValue"/>: nothing pending).</summary>
    public long Poll(long now)
    {
        var due = long.MaxValue;
        foreach (var track in _tracks.Values)
        {
            due = Math.Min(due, track.Poll(now));
        }

        NextDue = due;
        return due;
    }

    internal void SendNak(ushort publisher, uint stream, ulong first, uint count)
    {
        var length = ControlPackets.WriteNak(_control, _node, publisher, stream, first, count);
        _sink.Send(_control.AsSpan(0, length));
        Counters.NaksSent++;
    }

    /// <summary>Hands a checked Data packet's messages to the receiver, reassembling fragments.</summary>
    internal void DeliverFrames(ReadOnlySpan<byte> packet, FragmentAssembler assembler)
    {
        var reader = new FrameReader(packet[PacketHeader.Size..]);
        while (reader.TryNext(out var frame, out var end) == ParseStatus.Ok && !end)
        {
            var wanted = _topics[frame.Topic];
            if (frame.Flags != FrameFlags.Whole)
            {
                if (assembler.Accept(frame, wanted, Counters))
                {
                    Counters.Messages++;
                    Receiver.OnMessage(frame.Topic, assembler.Message);
                }
            }
            else if (wanted)
            {
                Counters.Messages++;
                Receiver.OnMessage(frame.Topic, frame.Payload);
            }
            else
            {
                Counters.Filtered++;
            }
        }
    }

    private static ulong Key(ushort node, uint stream) => ((ulong)node << 32) | stream;

    private PublisherTrack? Find(ushort node, uint stream)
    {
        var key = Key(node, stream);
        if (_tracks.TryGetValue(key, out var track))
        {
            return track;
        }

        if (_tracks.Count >= _maxPublishers)
        {
            return null;
        }

        track = new PublisherTrack(this, node, stream);
        _tracks.Add(key, track);
        PublisherHeard?.Invoke(node, stream);
        return track;
    }
}
