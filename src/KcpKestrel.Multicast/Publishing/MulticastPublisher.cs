using KcpKestrel.Multicast.Wire;
using KcpKestrel.Shared;

namespace KcpKestrel.Multicast.Publishing;

/// <summary>
/// A publisher's protocol state, with no I/O and no clock: every call takes <c>now</c> (microseconds)
/// and hands the datagrams to send to the sink. Messages are batched into the packet being built
/// (in its history slot); a packet goes out when the flush flag asks, when it is full, or when its
/// oldest message waited <see cref="MulticastOptions.FlushDelay"/> (<see cref="Poll"/>). New packets
/// and resends take tokens from one bucket, so answering NAKs lowers the new-data rate; near the
/// limit the flush flag is ignored and messages batch. NAKs for bursts of consecutive packets lower the
/// new-data rate further (<see cref="SendPacer"/>, <see cref="MulticastOptions.CongestionControl"/>).
/// A packet subscribers are still repairing is not overwritten by a new one (<see cref="PacketHistory"/>):
/// offers wait instead, which paces the publisher to its slowest repairing subscriber. One thread at a time.
/// </summary>
internal sealed class MulticastPublisher
{
    private readonly IDatagramSink _sink;
    private readonly PacketHistory _history;
    private readonly TokenBucket? _bucket;
    private readonly SendPacer? _pacer;
    private readonly byte[] _control = new byte[ControlPackets.MaxSize];
    private readonly ushort _node;
    private readonly uint _stream;
    private readonly PacketFlags _streamFlags;
    private readonly int _datagramSize;
    private readonly int _maxMessageSize;
    private readonly long _flushDelay;
    private readonly long _heartbeatInterval;
    private readonly long _suppressWindow;

    private ulong _next = 1;
    private int _openLength;
    private ushort _openTarget;
    private long _openSince;
    private long _lastSendAt;
    private bool _sentAny;

    /// <param name="options">Validated here.</param>
    /// <param name="sink">Where the packets go.</param>
    /// <param name="reservedBytes">Bytes of <see cref="MulticastOptions.DatagramSize"/> left free in every packet for the packet codec (seal, FEC).</param>
    public MulticastPublisher(MulticastOptions options, IDatagramSink sink, int reservedBytes = 0)
    {
        options.Validate();
        _sink = sink;
        _node = options.NodeId;
        _stream = options.StreamId;
        _streamFlags = options.Reliable ? PacketFlags.None : PacketFlags.Unreliable;
        _datagramSize = options.DatagramSize - reservedBytes;
        _maxMessageSize = options.MaxMessageSize;
        _history = new PacketHistory(
            options.HistoryPackets,
            _datagramSize,
            options.Reliable ? MulticastOptions.Micros(options.RepairHold) : 0,
            MulticastOptions.Micros(options.NakRetry),
            MulticastOptions.Micros(options.NakRetryMax));
        _flushDelay = MulticastOptions.Micros(options.FlushDelay);
        _heartbeatInterval = MulticastOptions.Micros(options.HeartbeatInterval);
        _suppressWindow = MulticastOptions.Micros(options.NakSuppressWindow);
        if (options.PacketsPerSecond > 0)
        {
            // A burst of 1 ms of packets (at least one), so the rate holds over any millisecond.
            _bucket = new TokenBucket(
                options.PacketsPerSecond, Math.Max(1, options.PacketsPerSecond / 1000.0), TimeSpan.TicksPerSecond / TimeSpan.TicksPerMicrosecond);
        }

        if (options.CongestionControl && options.Reliable)
        {
            // Unreliable streams get no NAKs, so nothing would signal congestion.
            _pacer = new SendPacer(options.PacketsPerSecond);
        }
    }

    public PublisherCounters Counters { get; } = new();

    /// <summary>The last sequence sent (0: none).</summary>
    public ulong LatestSequence => _next - 1;

    /// <summary>The oldest sequence the history still holds.</summary>
    public ulong OldestSequence => _history.Oldest(_next, building: _openLength > 0);

    /// <summary>Bytes of history: fixed at construction.</summary>
    public int HistoryBytes => _history.Capacity * _history.DatagramSize;

    /// <summary>
    /// When the open batch's delay runs out (<see cref="long.MaxValue"/>: none open): an offer that opens
    /// a batch moves the I/O shell's timer no later than this.
    /// </summary>
    public long FlushDue => _openLength > 0 ? _openSince + _flushDelay : long.MaxValue;

    /// <summary>Until when the last offer refused for a repair (<see cref="MulticastOptions.RepairHold"/>) must wait at most.</summary>
    public long RepairHeldUntil { get; private set; } = long.MinValue;

    /// <summary>The rate the congestion response allows, in packets per second (0: it does not limit).</summary>
    public double PacedRate => _pacer?.Rate ?? 0;

    /// <summary>The congestion response's rate cuts so far.</summary>
    public long CongestionCuts => _pacer?.Cuts ?? 0;

    private bool CanSend => (_bucket is null || _bucket.Tokens >= 1) && (_pacer is null || _pacer.HasToken);

    /// <summary>
    /// Adds <paramref name="message"/> on <paramref name="topic"/> for everyone (or for node
    /// <paramref name="target"/>). False when the rate limit leaves no token to send the batch it
    /// would have to close: call <see cref="Poll"/> and retry. Messages above
    /// <see cref="MulticastOptions.MaxMessageSize"/> throw.
    /// </summary>
    public bool TryOffer(ReadOnlySpan<byte> message, byte topic, bool flush, long now, ushort target = PacketHeader.Everyone)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(message.Length, _maxMessageSize, nameof(message));
        Refill(now);
        if (_openLength > 0 && target != _openTarget)
        {
            // One target per packet: a message for another node closes the batch.
            if (!CanSend)
            {
                return Refuse();
            }

            if (RepairHeld(now, 1))
            {
                return false;
            }

            Seal(now);
        }

        var frameSize = Frame.WholeHeaderSize + message.Length;
        if (_openLength > 0 && _openLength + frameSize <= _datagramSize)
        {
            _openLength += FrameWriter.WriteWhole(_history.Slot(_next)[_openLength..], topic, message);
        }
        else if (PacketHeader.Size + frameSize <= _datagramSize)
        {
            if (RepairHeld(now, 1))
            {
                return false;
            }

            if (_openLength > 0)
            {
                if (!CanSend)
                {
                    return Refuse();
                }

                Seal(now);
            }

            Open(target, now);
            _openLength += FrameWriter.WriteWhole(_history.Slot(_next)[_openLength..], topic, message);
        }
        else
        {
            // Fragments need one token to start; the rest may go into debt, which later sends repay.
            if (!CanSend)
            {
                return Refuse();
            }

            // Every packet the fragments may take must be free (at most the ring: a message larger
            // than the history cannot be repaired whole anyway).
            var pieces = (message.Length / (_datagramSize - PacketHeader.Size - Frame.FragmentHeaderSize)) + 2;
            if (RepairHeld(now, Math.Min(pieces, _history.Capacity - 1)))
            {
                return false;
            }

            WriteFragments(message, topic, target, now);
        }

        Counters.Messages++;
        if (flush && CanSend)
        {
            Seal(now);
        }

        return true;
    }

    /// <summary>
    /// Sends what is due at <paramref name="now"/>: the batch whose delay ran out (when the rate
    /// allows), a heartbeat when idle. Returns when to call again.
    /// </summary>
    public long Poll(long now)
    {
        Refill(now);
        if (_openLength > 0 && now - _openSince >= _flushDelay && CanSend)
        {
            Seal(now);
        }

        if (!_sentAny || now - _lastSendAt >= _heartbeatInterval)
        {
            SendHeartbeat(now);
        }

        var due = _lastSendAt + _heartbeatInterval;
        if (_openLength > 0)
        {
            var flushAt = CanSend ? _openSince + _flushDelay : now + MicrosUntilSend();
            due = Math.Min(due, Math.Max(flushAt, now));
        }

        return due;
    }

    /// <summary>Handles a datagram from a subscriber: NAKs aimed at this node and stream.</summary>
    public void OnDatagram(ReadOnlySpan<byte> datagram, long now)
    {
        if (PacketHeader.TryRead(datagram, out var header) != ParseStatus.Ok)
        {
            Counters.Dropped++;
            return;
        }

        if (header.Kind != PacketKind.Nak || header.Target != _node || header.Stream != _stream)
        {
            // Our own looped-back data and other nodes' traffic land here too.
            Counters.Dropped++;
            return;
        }

        Counters.NaksReceived++;
        Refill(now);
        var first = header.Sequence;
        var count = PacketHeader.ReadCount(datagram);
        var oldest = OldestSequence;
        ulong goneFirst = 0;
        uint goneCount = 0;
        for (var sequence = first; sequence < first + count; sequence++)
        {
            if (sequence >= _next)
            {
                Counters.NaksNeverSent += (long)(first + count - sequence);
                break;
            }

            if (sequence < oldest || !_history.TryGet(sequence, out var packet))
            {
                goneFirst = goneCount == 0 ? sequence : goneFirst;
                goneCount++;
                Counters.NaksGone++;
                continue;
            }

            if (!_history.TryMarkResend(sequence, now, _suppressWindow))
            {
                Counters.NaksSuppressed++;
                continue;
            }

            packet[3] = (byte)(_streamFlags | PacketFlags.Retransmit);
            _sink.Send(packet);
            _bucket?.Take(1);
            _pacer?.OnSend(now);
            Counters.Retransmits++;
            Counters.Packets++;
        }

        _pacer?.OnNak(first, count, _next, now);
        if (goneCount > 0)
        {
            _history.NakedGone(oldest, now);
            var length = ControlPackets.WriteGone(_control, _node, header.Source, _stream, goneFirst, goneCount, oldest);
            _sink.Send(_control.AsSpan(0, length));
        }
    }

    private void Refill(long now)
    {
        _bucket?.Refill(now);
        _pacer?.Refill(now);
    }

    private long MicrosUntilSend()
    {
        var bucket = _bucket is null ? 0 : Math.Max(0, (long)Math.Ceiling(_bucket.SecondsUntil(1) * 1_000_000));
        return Math.Max(1, Math.Max(bucket, _pacer?.MicrosUntilToken ?? 0));
    }

    private bool Refuse()
    {
        if (_pacer is not null && !_pacer.HasToken)
        {
            // Counted apart from the user's rate limit: this one comes and goes with the NAKs.
            _pacer.Waited();
            Counters.CongestionWaits++;
        }
        else
        {
            Counters.RateLimited++;
        }

        return false;
    }

    /// <summary>
    /// Whether one of the next <paramref name="slots"/> new packets would overwrite a packet still held
    /// for a repair at <paramref name="now"/> (counted: the offer waits).
    /// </summary>
    private bool RepairHeld(long now, int slots)
    {
        var first = _openLength > 0 ? _next + 1 : _next;
        for (var i = 0UL; i < (ulong)slots; i++)
        {
            var until = _history.HeldUntil(first + i);
            if (until > now)
            {
                Counters.RepairWaits++;
                RepairHeldUntil = until;
                return true;
            }
        }

        return false;
    }

    private void Open(ushort target, long now)
    {
        _openTarget = target;
        _openSince = now;
        _openLength = PacketHeader.Size;
    }

    private void Seal(long now)
    {
        var slot = _history.Slot(_next);
        new PacketHeader(PacketKind.Data, _streamFlags, _node, _openTarget, _stream, _next).Write(slot);
        _history.Commit(_next, _openLength, now);
        _sink.Send(slot[.._openLength]);
        _bucket?.Take(1);
        _pacer?.OnSend(now);
        Counters.Packets++;
        _next++;
        _openLength = 0;
        _lastSendAt = now;
        _sentAny = true;
    }

    private void WriteFragments(ReadOnlySpan<byte> message, byte topic, ushort target, long now)
    {
        // Start in the open batch when a useful piece still fits; otherwise close it first.
        if (_openLength > 0 && _datagramSize - _openLength < Frame.FragmentHeaderSize + 64)
        {
            Seal(now);
        }

        var offset = 0;
        while (true)
        {
            if (_openLength == 0)
            {
                Open(target, now);
            }

            var chunk = Math.Min(_datagramSize - _openLength - Frame.FragmentHeaderSize, message.Length - offset);
            var flags = (offset == 0 ? FrameFlags.First : FrameFlags.Middle)
                | (offset + chunk == message.Length ? FrameFlags.Last : FrameFlags.Middle);
            _openLength += FrameWriter.WriteFragment(
                _history.Slot(_next)[_openLength..], topic, flags, message.Length, message.Slice(offset, chunk));
            offset += chunk;
            if (offset == message.Length)
            {
                return;
            }

            Seal(now);
        }
    }

    private void SendHeartbeat(long now)
    {
        var length = ControlPackets.WriteHeartbeat(_control, _streamFlags, _node, _stream, _next - 1, OldestSequence);
        _sink.Send(_control.AsSpan(0, length));
        Counters.Heartbeats++;
        _lastSendAt = now;
        _sentAny = true;
    }
}
