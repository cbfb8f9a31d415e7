using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using KcpKestrel.Multicast.Codec;
using KcpKestrel.Multicast.Diagnostics;
using KcpKestrel.Multicast.Io;
using KcpKestrel.Multicast.Publishing;
using KcpKestrel.Multicast.Subscribing;
using KcpKestrel.Multicast.Wire;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace KcpKestrel.Multicast;

/// <summary>
/// One multicast group on one interface (<see cref="MulticastOptions.Group"/>,
/// <see cref="MulticastOptions.Interface"/>): a socket and a receive thread around the protocol core,
/// plus a housekeeping thread (flushes, NAKs, heartbeats, publisher timeouts) that sleeps until the
/// next deadline; with <see cref="MulticastOptions.BusyPoll"/> the receive thread does the
/// housekeeping itself between non-blocking receives. Publish with <see cref="Offer"/> /
/// <see cref="TryOffer"/> from any thread; a receiver given at construction gets the subscribed
/// topics' messages on the receive thread.
/// </summary>
/// <remarks>
/// NAKs go to the group like everything else: the core addresses them to the publisher's node id in
/// the header, and a unicast reply to the publisher's source port would reach only one of the sockets
/// that share that port on its host. A receiver callback that throws is counted and that message
/// skipped; the receive thread goes on with the next one.
/// </remarks>
public sealed class MulticastTransport : IDisposable
{
    private const int SocketBufferBytes = 4 << 20;

    // Blocking mode polls this long after a batch before it sleeps in the kernel again: a stream keeps
    // the thread awake, and the sender's system call no longer pays a wake-up per datagram (loopback
    // 1->1: 2.6 M msg/s instead of 2.1-2.2 M). The price: at most 50 us of polling per burst, about 5%
    // of a core for a datagram every millisecond; an idle transport sleeps.
    private const long SpinMicroseconds = 50;

    // A repair wait longer than this sleeps (1 ms) instead of spinning.
    private const long RepairSleepMicroseconds = 1000;

    // Microseconds before the housekeeping retries a publisher whose lock an offer held.
    private const long BusyLockRetry = 1000;

    // Datagrams one receive call takes at most: a 16th of the system calls at full rate. Each slot
    // holds the largest datagram, so a subscriber hears a publisher configured with a larger
    // DatagramSize than its own (1 MiB of native memory per transport).
    private const int ReceiveBatchSize = 16;

    private readonly MulticastOptions _options;
    private readonly Socket _socket;
    private readonly SocketAddress _group;
    private readonly ReceiveBatch _batch;
    private readonly long _epoch = Stopwatch.GetTimestamp();

    // Set to cut the housekeeping's sleep short: an offer opened a batch, a gap was found, or Dispose.
    private readonly ManualResetEventSlim _wake = new(false, spinCount: 1);
    private readonly Lock _publishLock = new();
    private readonly Lock _subscribeLock = new();
    private readonly Sink _sink;
    private readonly CodecEnds _wire;
    private readonly CodecEnds _dispatch;
    private readonly MulticastPacketCodec? _codec;
    private readonly ILogger _logger;
    private readonly MulticastMetrics _metrics;
    private readonly ReceiverGuard? _guard;
    private readonly MulticastSubscriber? _subscriber;
    private readonly ReceiveDropFilter? _dropFilter;
    private readonly bool _busyPoll;
    private readonly Thread _receiveThread;
    private readonly Thread? _housekeepingThread;
    private MulticastPublisher? _publisher;
    private long _sleepUntil = long.MaxValue;
    private long _receiveNow;
    private long _sendErrors;

    // Microseconds the last refused offer has to wait for a repair hold (written under the publish lock).
    private long _repairWait;
    private long _receiveErrors;
    private long _oversize;
    private long _housekeepingRuns;
    private long _datagramsReceived;
    private volatile bool _stopping;
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
        _busyPoll = options.BusyPoll;
        Group = group;
        _group = group.Serialize();
        GroupTag = new(MulticastMetrics.GroupTag, group.ToString());
        _logger = logger ?? NullLogger.Instance;
        if (receiver is not null)
        {
            _guard = new ReceiverGuard(logger is null ? receiver : new LoggingReceiver(receiver, logger, group, options.OnUnrecoverable));
            _guard.Failed += OnCallbackError;
            _subscriber = new MulticastSubscriber(options, _guard, _sink, topics);
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
        if (options.Crypt == "none")
        {
            // The filter reads the clear header; a sealed datagram starts with its nonce, whose first
            // byte may equal the magic by chance, and the filter would then misread the rest.
            KernelFilter.TryAttach(_socket, options.NodeId, naksOnly: receiver is null);
        }

        MulticastLog.JoinedGroup(_logger, group, options.Interface ?? "(default)", options.NodeId);
        _metrics = metrics ?? MulticastMetrics.Shared;
        _metrics.Add(this);
        _batch = new ReceiveBatch(_socket, ReceiveBatchSize, MulticastOptions.MaxDatagramSize);

        // The receive thread passes the raw descriptor to recvmmsg: this reference keeps it from being
        // closed (and its number reused) under a call in progress; the thread releases it on its way out.
        var referenced = false;
        _socket.SafeHandle.DangerousAddRef(ref referenced);
        _receiveThread = new Thread(ReceiveLoop) { IsBackground = true, Name = "multicast receive" };
        _receiveThread.Start();
        if (!_busyPoll)
        {
            _housekeepingThread = new Thread(HousekeepingLoop) { IsBackground = true, Name = "multicast housekeeping" };
            _housekeepingThread.Start();
        }
    }

    /// <summary>The group this transport joined.</summary>
    public IPEndPoint Group { get; }

    internal PublisherCounters? PublisherCounters => Volatile.Read(ref _publisher)?.Counters;

    /// <summary>The rate the publisher's congestion response allows now, packets per second (0: not limiting).</summary>
    internal double PacedRate => Volatile.Read(ref _publisher)?.PacedRate ?? 0;

    /// <summary>The publisher's congestion rate cuts so far.</summary>
    internal long CongestionCuts => Volatile.Read(ref _publisher)?.CongestionCuts ?? 0;

    internal SubscriberCounters? SubscriberCounters => _subscriber?.Counters;

    internal long DiagnosticDropped => _dropFilter?.Dropped ?? 0;

    internal long SendErrors => Interlocked.Read(ref _sendErrors);

    /// <summary>Cipher and FEC counters (forged, replayed, recovered); null when neither is on.</summary>
    internal PacketCodecCounters? CodecCounters => _codec?.Counters;

    /// <summary>Exceptions the receiver's callbacks threw (each message skipped, the thread went on).</summary>
    internal long CallbackErrors => _guard?.Failures ?? 0;

    /// <summary>The group as a metrics tag, built once.</summary>
    internal KeyValuePair<string, object?> GroupTag { get; }

    /// <summary>Callbacks of the receiver that threw (each message skipped, the thread went on).</summary>
    internal long ReceiverFailures => _guard?.Failures ?? 0;

    /// <summary>Datagrams whose handling threw inside this library (a bug): dropped, the thread went on.</summary>
    internal long ReceiveErrors => Interlocked.Read(ref _receiveErrors);

    /// <summary>Datagrams longer than <see cref="MulticastOptions.MaxDatagramSize"/> (IPv6 jumbograms): dropped.</summary>
    internal long OversizeDatagrams => Interlocked.Read(ref _oversize);

    /// <summary>Datagrams the receive thread got from the socket (after the kernel filter).</summary>
    internal long DatagramsReceived => Interlocked.Read(ref _datagramsReceived);

    /// <summary>Times the housekeeping ran (flushes, NAKs, heartbeats): tests check an idle transport rests.</summary>
    internal long HousekeepingRuns => Interlocked.Read(ref _housekeepingRuns);

    /// <summary>Raised on the receive thread with the exception of a receiver callback that threw (for logging).</summary>
    internal event Action<Exception>? ReceiverFailed
    {
        add
        {
            if (_guard is not null)
            {
                _guard.Failed += value;
            }
        }

        remove
        {
            if (_guard is not null)
            {
                _guard.Failed -= value;
            }
        }
    }

    private long Now => Stopwatch.GetElapsedTime(_epoch).Ticks / TimeSpan.TicksPerMicrosecond;

    /// <summary>
    /// Adds a message on <paramref name="topic"/> for every subscriber (or node <paramref name="target"/>).
    /// <paramref name="flush"/> sends the batch now; without it the batch waits up to
    /// <see cref="MulticastOptions.FlushDelay"/>. False when the rate limit refused it: retry later.
    /// </summary>
    public bool TryOffer(ReadOnlySpan<byte> message, byte topic, bool flush, ushort target = 0)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        bool accepted;
        bool opened;
        long flushDue;
        lock (_publishLock)
        {
            if (_publisher is null)
            {
                // Created on the first offer: a subscribe-only transport holds no history. Its first
                // heartbeat is due now.
                _publisher = new MulticastPublisher(_options, _sink, _codec?.Overhead ?? 0);
                _wake.Set();
            }

            var before = _publisher.FlushDue;
            var now = Now;
            accepted = _publisher.TryOffer(message, topic, flush, now, target);
            flushDue = _publisher.FlushDue;
            _repairWait = accepted ? 0 : _publisher.RepairHeldUntil - now;
            opened = flushDue != before;
        }

        // A batch this offer opened must be flushed in time: wake the housekeeping if it sleeps past
        // that. Only then: offers refused by the rate limit, retried in a loop, must not wake it each time.
        if (opened && flushDue < Volatile.Read(ref _sleepUntil))
        {
            _wake.Set();
        }

        return accepted;
    }

    /// <summary>
    /// Like <see cref="TryOffer"/>, but waits while it refuses: spinning, then yielding under the rate
    /// limit; sleeping while subscribers repair the packet the next one would overwrite
    /// (<see cref="MulticastOptions.RepairHold"/>), so their processes get the CPU.
    /// </summary>
    public void Offer(ReadOnlySpan<byte> message, byte topic, bool flush, ushort target = 0)
    {
        var spin = default(SpinWait);
        while (!TryOffer(message, topic, flush, target))
        {
            if (Volatile.Read(ref _repairWait) > RepairSleepMicroseconds)
            {
                Thread.Sleep(1);
            }
            else
            {
                spin.SpinOnce(sleep1Threshold: -1);
            }
        }
    }

    /// <summary>Leaves the group and stops the threads; unsent batches are dropped.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _stopping = true;
        _wake.Set();
        try
        {
            // Wakes a receive blocked in the kernel (close alone would not while the call holds the socket).
            _socket.Shutdown(SocketShutdown.Receive);
        }
        catch (SocketException)
        {
            // ENOTCONN on an unconnected UDP socket: the shutdown took effect all the same.
        }

        _socket.Dispose();
        var stopped = _receiveThread.Join(TimeSpan.FromSeconds(5));
        _housekeepingThread?.Join(TimeSpan.FromSeconds(5));
        if (stopped)
        {
            // Only once no receive can be using them.
            _batch.Dispose();
            _wake.Dispose();
            _codec?.Dispose();
        }

        _metrics.Remove(this);
        MulticastLog.LeftGroup(_logger, Group);
    }

    /// <summary>Logs (at growing intervals) an exception a receiver callback threw on the receive thread.</summary>
    private void OnCallbackError(Exception exception)
    {
        var count = CallbackErrors;
        if (MulticastLog.ShouldLogOccurrence(count))
        {
            MulticastLog.ReceiveCallbackFailed(_logger, exception, Group, count);
        }
    }

    private void ReceiveLoop()
    {
        try
        {
            var due = long.MinValue;
            var spinUntil = 0L;
            var spinTicks = Stopwatch.Frequency * SpinMicroseconds / 1_000_000;
            while (!_stopping)
            {
                var count = _batch.Receive(wait: !_busyPoll && Stopwatch.GetTimestamp() >= spinUntil);
                if (count > 0)
                {
                    HandleBatch(count);
                    spinUntil = Stopwatch.GetTimestamp() + spinTicks;
                }

                if (_busyPoll && (Now >= due || _wake.IsSet))
                {
                    // Busy-poll: the housekeeping runs here, on time, with no thread to wake.
                    due = Housekeep();
                }
            }
        }
        catch (ObjectDisposedException)
        {
        }
        finally
        {
            _socket.SafeHandle.DangerousRelease();
        }
    }

    private void HandleBatch(int count)
    {
        Interlocked.Add(ref _datagramsReceived, count);
        var now = Now;
        _receiveNow = now;
        for (var i = 0; i < count; i++)
        {
            var datagram = _batch.Datagram(i);
            if (datagram.IsEmpty)
            {
                Interlocked.Increment(ref _oversize);
                continue;
            }

            try
            {
                if (_codec is not null)
                {
                    // Opened, replay-checked and FEC-decoded datagrams come back through _dispatch.
                    _codec.Receive(datagram, now, _dispatch);
                }
                else
                {
                    HandleDatagram(datagram, now, _dropFilter);
                }
            }
#pragma warning disable CA1031 // A datagram that trips a bug is dropped; the thread must go on for the others.
            catch (Exception)
#pragma warning restore CA1031
            {
                Interlocked.Increment(ref _receiveErrors);
            }
        }

        // A gap found (or a publisher heard first) sets a deadline the housekeeping may be sleeping past.
        if (_subscriber is not null && _subscriber.NextDue < Volatile.Read(ref _sleepUntil))
        {
            _wake.Set();
        }
    }

    /// <summary>Hands one received datagram to the publisher (NAKs) or the subscriber (everything else).</summary>
    /// <param name="datagram">A clear datagram.</param>
    /// <param name="now">The batch's receive time.</param>
    /// <param name="dropFilter">The diagnostic loss, unless the codec applied it already.</param>
    private void HandleDatagram(ReadOnlySpan<byte> datagram, long now, ReceiveDropFilter? dropFilter)
    {
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
                    publisher.OnDatagram(datagram, now);
                }
            }
        }
        else if (_subscriber is not null && (datagram[4] | (datagram[5] << 8)) != _options.NodeId && dropFilter?.Drop(datagram) != true)
        {
            // Our own publisher's packets loop back: this node does not subscribe to itself.
            lock (_subscribeLock)
            {
                _subscriber.OnDatagram(datagram, now);
            }
        }
    }

    private void HousekeepingLoop()
    {
        while (!_stopping)
        {
            var due = Housekeep();
            var sleep = due == long.MaxValue ? Timeout.Infinite : (int)Math.Clamp((due - Now + 999) / 1000, 1, int.MaxValue);
            _wake.Wait(sleep);
        }
    }

    /// <summary>
    /// Runs what is due (flush, NAKs, heartbeat, publisher timeouts) and returns the next deadline. While
    /// it runs, <see cref="_sleepUntil"/> reads "never", so an offer or gap racing with it wakes the next
    /// sleep at once rather than being missed.
    /// </summary>
    private long Housekeep()
    {
        _wake.Reset();
        Volatile.Write(ref _sleepUntil, long.MaxValue);
        Interlocked.Increment(ref _housekeepingRuns);
        var now = Now;
        var due = long.MaxValue;
        var publisher = Volatile.Read(ref _publisher);
        if (publisher is not null)
        {
            if (_publishLock.TryEnter())
            {
                try
                {
                    due = publisher.Poll(now);
                }
                finally
                {
                    _publishLock.Exit();
                }
            }
            else
            {
                // An offer holds the lock: waiting for it cost a publishing at full rate more CPU in
                // yields than the flushes themselves (an Offer loop takes the lock back at once).
                // While offers stream in they fill and send the batches; come back a millisecond later.
                due = now + BusyLockRetry;
            }
        }

        if (_subscriber is not null)
        {
            lock (_subscribeLock)
            {
                due = Math.Min(due, _subscriber.Poll(now));
            }
        }

        Volatile.Write(ref _sleepUntil, due);
        return due;
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
                transport.HandleDatagram(datagram, transport._receiveNow, dropFilter: null);
            }
        }
    }
}
