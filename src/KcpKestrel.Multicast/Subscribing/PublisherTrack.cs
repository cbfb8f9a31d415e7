using KcpKestrel.Multicast.Wire;

namespace KcpKestrel.Multicast.Subscribing;

/// <summary>
/// A subscriber's state for one publisher stream: the last sequence delivered, the out-of-order
/// packets, the gap being repaired (a reorder wait, then NAKs with a back-off per sequence), the fragment in
/// progress, and when the publisher was last heard.
/// </summary>
internal sealed class PublisherTrack
{
    private const long None = long.MaxValue;

    /// <summary>NAK packets one poll sends at most (one per missing run), so a bad window cannot flood.</summary>
    private const int MaxNaksPerPoll = 32;

    private readonly MulticastSubscriber _owner;
    private readonly ReceiveWindow _window;
    private readonly NakSchedule _naks;
    private readonly FragmentAssembler _assembler;
    private ulong _delivered;
    private ulong _highest;
    private long _lastHeard;
    private long _nakAt = None;
    private bool _started;
    private bool _stopped;
    private bool _gone;

    public PublisherTrack(MulticastSubscriber owner, ushort node, uint stream)
    {
        _owner = owner;
        Node = node;
        Stream = stream;
        _window = new ReceiveWindow(owner.ReceiveBufferPackets, owner.DatagramSize);
        _naks = new NakSchedule(owner.ReceiveBufferPackets);
        _assembler = new FragmentAssembler(owner.MaxMessageSize);
    }

    public ushort Node { get; }

    public uint Stream { get; }

    /// <summary>The last sequence delivered in order.</summary>
    public ulong Delivered => _delivered;

    public bool Stopped => _stopped;

    /// <summary>When <see cref="Poll"/> has work next (<see cref="long.MaxValue"/>: none), without doing it.</summary>
    public long Due => _stopped || !_started || _gone ? None : Math.Min(_nakAt, _lastHeard + _owner.PublisherTimeout);

    public void OnData(in PacketHeader header, ReadOnlySpan<byte> datagram, long now)
    {
        Heard(now);
        var counters = _owner.Counters;
        if (_stopped)
        {
            counters.Dropped++;
            return;
        }

        var sequence = header.Sequence;
        var unreliable = (header.Flags & PacketFlags.Unreliable) != 0;
        if (!_started)
        {
            Start(unreliable || _owner.Join == MulticastJoin.Latest ? sequence - 1 : 0);
        }

        if (sequence <= _delivered || _window.Contains(sequence))
        {
            counters.Duplicates++;
            return;
        }

        if (unreliable)
        {
            // No repair: a gap is skipped at once, and a late packet counts as a duplicate.
            if (sequence > _delivered + 1)
            {
                counters.Skipped += (long)(sequence - _delivered - 1);
                _assembler.Reset(counters);
            }

            Deliver(datagram, sequence);
            _highest = _delivered;
            return;
        }

        if (sequence - _delivered > (ulong)_window.Capacity)
        {
            counters.FarAhead++;
            return;
        }

        if (sequence == _delivered + 1)
        {
            Deliver(datagram, sequence);
            Drain();
        }
        else
        {
            if (sequence > _highest + 1 && _nakAt != None)
            {
                // A new missing run behind a gap already NAKed: ask after the reorder wait, not the back-off.
                _nakAt = Math.Min(_nakAt, now + _owner.ReorderWait);
            }

            if (datagram.Length > _window.SlotSize)
            {
                // Longer than this subscriber's DatagramSize, so it cannot be buffered out of order
                // (only delivered in order): it comes back when the gap before it is repaired.
                counters.Dropped++;
                return;
            }

            _window.Store(sequence, datagram);
            _highest = Math.Max(_highest, sequence);
        }

        UpdateGap(now);
    }

    public void OnHeartbeat(in PacketHeader header, ulong oldest, long now)
    {
        Heard(now);
        var latest = header.Sequence;
        if (_stopped)
        {
            return;
        }

        var unreliable = (header.Flags & PacketFlags.Unreliable) != 0;
        if (!_started)
        {
            Start(unreliable || _owner.Join == MulticastJoin.Latest ? latest : 0);
        }

        if (unreliable || latest <= _delivered)
        {
            return;
        }

        if (_delivered + 1 < oldest)
        {
            Unrecoverable(oldest - 1, now);
            if (_stopped)
            {
                return;
            }
        }

        // A lost tail: NAK up to the latest the publisher sent, within the buffer.
        _highest = Math.Max(_highest, Math.Min(latest, _delivered + (ulong)_window.Capacity));
        UpdateGap(now);
    }

    /// <summary>The publisher answered a NAK: the range left its history; <paramref name="oldest"/> is what it still holds.</summary>
    public void OnGone(ulong oldest, long now)
    {
        Heard(now);
        if (!_stopped && _started && _delivered + 1 < oldest)
        {
            Unrecoverable(oldest - 1, now);
        }
    }

    /// <summary>Sends the NAKs that are due and notices a silent publisher; returns when to poll again.</summary>
    public long Poll(long now)
    {
        if (_stopped || !_started)
        {
            return None;
        }

        if (!_gone && now - _lastHeard >= _owner.PublisherTimeout)
        {
            _gone = true;
            _nakAt = None;
            _owner.Counters.PublishersGone++;
            _owner.Receiver.OnPublisherGone(Node, Stream);
        }

        if (_gone)
        {
            return None;
        }

        if (now >= _nakAt)
        {
            _nakAt = SendNaks(now);
        }

        return Math.Min(_nakAt, _lastHeard + _owner.PublisherTimeout);
    }

    private void Start(ulong delivered)
    {
        _started = true;
        _delivered = delivered;
        _highest = delivered;
    }

    private void Heard(long now)
    {
        _lastHeard = now;
        _gone = false;
    }

    private void Deliver(ReadOnlySpan<byte> packet, ulong sequence)
    {
        _delivered = sequence;
        _owner.DeliverFrames(packet, _assembler);

        // After the frames: the packet may live in the page this gives back.
        _window.Delivered(sequence);
    }

    private void Drain()
    {
        while (!_stopped && _window.TryGet(_delivered + 1, out var packet))
        {
            Deliver(packet, _delivered + 1);
        }
    }

    private void UpdateGap(long now)
    {
        if (_highest <= _delivered)
        {
            _nakAt = None;
        }
        else if (_nakAt == None)
        {
            // Wait briefly: the missing packet may only be reordered.
            _nakAt = now + _owner.ReorderWait;
        }
    }

    /// <summary>
    /// Everything up to <paramref name="last"/> left the publisher's history. Only the runs missing here
    /// are lost: packets already buffered below <paramref name="last"/> are delivered in order, and each
    /// missing run is reported on its own (data already accepted is never dropped).
    /// </summary>
    private void Unrecoverable(ulong last, long now)
    {
        var counters = _owner.Counters;

        // The window holds nothing past this (it stores only within its capacity of delivery).
        var buffered = Math.Min(last, _delivered + (ulong)_window.Capacity);
        while (_delivered < last)
        {
            if (_window.TryGet(_delivered + 1, out var packet))
            {
                Deliver(packet, _delivered + 1);
                continue;
            }

            var first = _delivered + 1;
            var end = first;
            while (end < last)
            {
                if (end >= buffered)
                {
                    end = last;
                    break;
                }

                if (_window.Contains(end + 1))
                {
                    break;
                }

                end++;
            }

            counters.Unrecoverable++;
            counters.UnrecoverablePackets += (long)(end - first + 1);
            _owner.Receiver.OnUnrecoverable(Node, Stream, first, end);
            _assembler.Reset(counters);
            if (_owner.GapPolicy == MulticastGapPolicy.Stop)
            {
                _stopped = true;
                _nakAt = None;
                _window.Clear();
                return;
            }

            // Resync: carry on past the run.
            _delivered = end;
        }

        _highest = Math.Max(_highest, last);
        Drain();
        _nakAt = None;
        UpdateGap(now);
    }

    /// <summary>
    /// NAKs the missing runs that were never NAKed or whose retry interval passed; returns when the
    /// next NAK is due, so a repair on its way is not asked for again.
    /// </summary>
    private long SendNaks(long now)
    {
        var end = Math.Min(_highest, _delivered + (ulong)_window.Capacity);
        var next = None;
        var sent = 0;
        var sequence = _delivered + 1;
        while (sequence <= end)
        {
            if (_window.Contains(sequence))
            {
                sequence++;
                continue;
            }

            if (!_naks.IsDue(sequence, now))
            {
                next = Math.Min(next, _naks.DueAt(sequence));
                sequence++;
                continue;
            }

            if (sent == MaxNaksPerPoll)
            {
                // The rest of a bad window goes out a reorder wait later.
                next = Math.Min(next, now + _owner.ReorderWait);
                break;
            }

            var first = sequence;
            while (sequence <= end && !_window.Contains(sequence) && _naks.IsDue(sequence, now) && sequence - first < PacketHeader.MaxNakCount)
            {
                next = Math.Min(next, _naks.Sent(sequence, now, _owner.NakRetry, _owner.NakRetryMax));
                sequence++;
            }

            _owner.SendNak(Node, Stream, first, (uint)(sequence - first));
            sent++;
        }

        return next;
    }
}
