using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using KcpKestrel.Multicast.Diagnostics;
using KcpKestrel.Multicast.Codec;
using KcpKestrel.Multicast.Io;
using KcpKestrel.Multicast.Publishing;
using KcpKestrel.Multicast.Subscribing;
using KcpKestrel.Multicast.Wire;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace KcpKestrel.Multicast;

/// <summary>
/// One multicast group on one interface (<see cref="MulticastOptions.Group"/>,
/// <see cref="MulticastOptions.Interface"/>): a socket, one receive thread and one housekeeping thread
/// around the protocol core. Publish with <see cref="Offer"/> / <see cref="TryOffer"/> from any thread;
/// a receiver given at construction gets the subscribed topics' messages on the receive thread.
/// </summary>
/// <remarks>
/// NAKs go to the group like everything else: the core addresses them to the publisher's node id in
/// the header, and a unicast reply to the publisher's source port would reach only one of the sockets
/// that share that port on its host.
/// </remarks>
public sealed class MulticastTransport : IDisposable
{
    // The housekeeping thread wakes at least this often: a batch opened by Offer must be flushed
    // about FlushDelay later and a gap NAKed after ReorderWait, and neither wakes the thread itself.
    private const int MaxSleepMilliseconds = 1;
    private const int SocketBufferBytes = 4 << 20;

    private readonly MulticastOptions _options;
    private readonly Socket _socket;
    private readonly SocketAddress _group;
    private readonly byte[] _receiveBuffer = GC.AllocateArray<byte>(MulticastOptions.MaxDatagramSize + 1, pinned: true);
    private readonly long _epoch = Stopwatch.GetTimestamp();
    private readonly ManualResetEventSlim _stop = new();
    private readonly Lock _publishLock = new();
    private readonly Lock _subscribeLock = new();
    private readonly Sink _sink;
    private readonly CodecEnds _wire;
    private readonly CodecEnds _dispatch;
    private readonly MulticastSubscriber? _subscriber;
    private readonly ReceiveDropFilter? _dropFilter;
    private readonly Thread _receiveThread;
    private readonly Thread _housekeepingThread;
    private readonly MulticastPacketCodec? _codec;
    private MulticastPublisher? _publisher;
    private readonly ILogger _logger;
    private readonly MulticastMetrics _metrics;
    private long _sendErrors;
    private long _callbackErrors;
    private int _disposed;

    /// <summary>Joins the group and starts the threads.</summary>
    /// <param name="options">Validated here; <see cref="MulticastOptions.Group"/> is required.</param>
    /// <param name="receiver">Gets the messages on <paramref name="topics"/>; null: publish only.</param>
    /// <param name="topics">The topics delivered to <paramref name="receiver"/>; empty: all.</param>
    public MulticastTransport(MulticastOptions options, IMulticastReceiver? receiver = null, params ReadOnlySpan<byte> topics)
        : this(options, receiver, logger: null, metrics: null, topics)
    {
    }

    /// <summary>The hosted path: as the public constructor, with the host's logger and metrics.</summary>
    /// <param name="options">Validated here.</param>
    /// <param name="receiver">Null: publish only.</param>
    /// <param name="logger">Null: no logging (and no extra call per message).</param>
    /// <param name="metrics">Null: <see cref="MulticastMetrics.Shared"/>.</param>
    /// <param name="topics">Empty: all.</param>
    internal MulticastTransport(MulticastOptions options, IMulticastReceiver? receiver, ILogger? logger, MulticastMetrics? metrics, ReadOnlySpan<byte> topics)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (!GroupAddress.TryParse(options.Group, out var group))
        {
            throw new ArgumentException("MulticastOptions.Group is required (e.g. 239.192.7.1:40100).", nameof(options));
        }

        _options = options;
        _sink = new Sink(this);
        _wire = new CodecEnds(this, toWire: true);
        _dispatch = new CodecEnds(this, toWire: false);
        Group = group;
        _group = group.Serialize();
        GroupTag = new(MulticastMetrics.GroupTag, group.ToString());
        _logger = logger ?? NullLogger.Instance;
        if (receiver is not null)
        {
            _subscriber = new MulticastSubscriber(options, logger is null ? receiver : new LoggingReceiver(receiver, logger, group, options.OnUnrecoverable), _sink, topics);
            if (logger is not null)
            {
                _subscriber.PublisherHeard = (node, stream) => MulticastLog.PublisherAppeared(logger, node, stream, Group);
            }

            _dropFilter = options.DiagnosticDropRate > 0 ? new ReceiveDropFilter(options.DiagnosticDropRate, options.DiagnosticDropSeed) : null;
        }

        if (MulticastPacketCodec.IsNeeded(options))
        {
            // The codec applies the drop filter itself, to wire packets before FEC repairs them.
            _codec = new MulticastPacketCodec(options, _dropFilter);
        }

        _socket = MulticastSocket.Open(group, options.Interface, SocketBufferBytes);
        MulticastLog.JoinedGroup(_logger, group, options.Interface ?? "(default)", options.NodeId);
        _metrics = metrics ?? MulticastMetrics.Shared;
        _metrics.Add(this);
        _receiveThread = new Thread(ReceiveLoop) { IsBackground = true, Name = "multicast receive" };
        _housekeepingThread = new Thread(HousekeepingLoop) { IsBackground = true, Name = "multicast housekeeping" };
        _receiveThread.Start();
        _housekeepingThread.Start();
    }

    /// <summary>The group this transport joined.</summary>
    public IPEndPoint Group { get; }

    internal PublisherCounters? PublisherCounters => Volatile.Read(ref _publisher)?.Counters;

    internal SubscriberCounters? SubscriberCounters => _subscriber?.Counters;

    internal long DiagnosticDropped => _dropFilter?.Dropped ?? 0;

    /// <summary>Cipher and FEC counters (forged, replayed, recovered); null when neither is on.</summary>
    internal PacketCodecCounters? CodecCounters => _codec?.Counters;

    internal long SendErrors => Interlocked.Read(ref _sendErrors);

    internal long CallbackErrors => Interlocked.Read(ref _callbackErrors);

    /// <summary>The group as a metrics tag, built once.</summary>
    internal KeyValuePair<string, object?> GroupTag { get; }

    private long Now => Stopwatch.GetElapsedTime(_epoch).Ticks / TimeSpan.TicksPerMicrosecond;

    /// <summary>
    /// Adds a message on <paramref name="topic"/> for every subscriber (or node <paramref name="target"/>).
    /// <paramref name="flush"/> sends the batch now; without it the batch waits up to
    /// <see cref="MulticastOptions.FlushDelay"/>. False when the rate limit refused it: retry later.
    /// </summary>
    public bool TryOffer(ReadOnlySpan<byte> message, byte topic, bool flush, ushort target = 0)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        lock (_publishLock)
        {
            // Created on the first offer: a subscribe-only transport holds no history.
            _publisher ??= new MulticastPublisher(_options, _sink, _codec?.Overhead ?? 0);
            return _publisher.TryOffer(message, topic, flush, Now, target);
        }
    }

    /// <summary>Like <see cref="TryOffer"/>, but waits (spinning, then yielding) while the rate limit refuses.</summary>
    public void Offer(ReadOnlySpan<byte> message, byte topic, bool flush, ushort target = 0)
    {
        var spin = default(SpinWait);
        while (!TryOffer(message, topic, flush, target))
        {
            spin.SpinOnce(sleep1Threshold: -1);
        }
    }

    /// <summary>Leaves the group and stops the threads; unsent batches are dropped.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _stop.Set();
        _socket.Dispose();
        _receiveThread.Join(TimeSpan.FromSeconds(5));
        _housekeepingThread.Join(TimeSpan.FromSeconds(5));
        _codec?.Dispose();
        _stop.Dispose();
        _metrics.Remove(this);
        MulticastLog.LeftGroup(_logger, Group);
    }

    /// <summary>Counts and logs (at growing intervals) an exception a receiver callback threw on the receive thread.</summary>
    internal void OnCallbackError(Exception exception)
    {
        var count = Interlocked.Increment(ref _callbackErrors);
        if (MulticastLog.ShouldLogOccurrence(count))
        {
            MulticastLog.ReceiveCallbackFailed(_logger, exception, Group, count);
        }
    }

    private void ReceiveLoop()
    {
        while (!_stop.IsSet)
        {
            int length;
            try
            {
                length = _socket.Receive(_receiveBuffer, SocketFlags.None);
            }
            catch (SocketException) when (!_stop.IsSet)
            {
                // A transient error (an ICMP report on a UDP socket): the datagram is lost, NAKs repair it.
                continue;
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return;
            }

            if (_codec is not null)
            {
                _codec.Receive(_receiveBuffer.AsSpan(0, length), Now, _dispatch);
            }
            else
            {
                Dispatch(_receiveBuffer.AsSpan(0, length), _dropFilter);
            }
        }
    }

    private void Dispatch(ReadOnlySpan<byte> datagram, ReceiveDropFilter? dropFilter)
    {
        var localNode = _options.NodeId;
        if (datagram.Length < PacketHeader.Size)
        {
            return;
        }

        // NAKs concern only a publisher; everything else only a subscriber. A NAK is checked by the
        // publisher itself (target node, stream).
        if ((PacketKind)datagram[2] == PacketKind.Nak)
        {
            var publisher = Volatile.Read(ref _publisher);
            if (publisher is not null)
            {
                lock (_publishLock)
                {
                    publisher.OnDatagram(datagram, Now);
                }
            }
        }
        else if (_subscriber is not null && (datagram[4] | (datagram[5] << 8)) != localNode && dropFilter?.Drop(datagram) != true)
        {
            // Our own publisher's packets loop back: this node does not subscribe to itself.
            lock (_subscribeLock)
            {
                _subscriber.OnDatagram(datagram, Now);
            }
        }
    }

    private void HousekeepingLoop()
    {
        while (!_stop.IsSet)
        {
            var now = Now;
            var due = long.MaxValue;
            var publisher = Volatile.Read(ref _publisher);
            if (publisher is not null)
            {
                lock (_publishLock)
                {
                    due = publisher.Poll(now);
                }
            }

            if (_subscriber is not null)
            {
                lock (_subscribeLock)
                {
                    due = Math.Min(due, _subscriber.Poll(now));
                }
            }

            var sleep = (int)Math.Clamp((due - Now + 999) / 1000, 1, MaxSleepMilliseconds);
            try
            {
                _stop.Wait(sleep);
            }
            catch (ObjectDisposedException)
            {
                return;
            }
        }
    }

    private void Send(ReadOnlySpan<byte> datagram)
    {
        if (_codec is not null)
        {
            _codec.Send(datagram, _wire);
        }
        else
        {
            SendToGroup(datagram);
        }
    }

    private void SendToGroup(ReadOnlySpan<byte> datagram)
    {
        try
        {
            _socket.SendTo(datagram, SocketFlags.None, _group);
        }
        catch (SocketException e)
        {
            // A full send buffer (ENOBUFS) loses the datagram like the network would: NAKs repair it.
            var count = Interlocked.Increment(ref _sendErrors);
            if (MulticastLog.ShouldLogOccurrence(count))
            {
                MulticastLog.SendFailed(_logger, e, Group, count);
            }
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private sealed class Sink(MulticastTransport transport) : IDatagramSink
    {
        public void Send(ReadOnlySpan<byte> datagram) => transport.Send(datagram);
    }

    /// <summary>The codec's two ends: sealed datagrams to the socket, opened ones to the core.</summary>
    private sealed class CodecEnds(MulticastTransport transport, bool toWire) : IDatagramSink
    {
        public void Send(ReadOnlySpan<byte> datagram)
        {
            if (toWire)
            {
                transport.SendToGroup(datagram);
            }
            else
            {
                transport.Dispatch(datagram, null);
            }
        }
    }
}
