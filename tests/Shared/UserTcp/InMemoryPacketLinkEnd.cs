using System.Buffers;
using KcpKestrel.Transport.UserTcp.Packets;

namespace KcpKestrel.Tests.Shared.UserTcp;

/// <summary>
/// One end of an <see cref="InMemoryPacketLink"/>: a packet source with one queue. Packets are copied into pooled
/// buffers, so a steady exchange allocates nothing once the in-flight list has grown.
/// </summary>
internal sealed class InMemoryPacketLinkEnd : IPacketSource, IPacketQueue
{
    private readonly InMemoryPacketLink _link;
    private readonly string _name;

    // Packets on their way to this end, ordered by due time then by send order (so equal delays keep their order).
    private readonly List<InFlightPacket> _inbound = [];
    private long _sequence;
    private bool _woken;
    private bool _opened;

    internal InMemoryPacketLinkEnd(InMemoryPacketLink link, int mtu, string name)
    {
        _link = link;
        _name = name;
        Mtu = mtu;
    }

    /// <inheritdoc />
    public int Mtu { get; }

    /// <inheritdoc />
    public int QueueCount => 1;

    /// <summary>
    /// A drop filter for what this end sends: true drops the packet (counted in <see cref="Filtered"/>) before loss
    /// and the rest apply. For targeted tests: "lose the third data segment", "drop every SYN-ACK".
    /// </summary>
    public Func<ReadOnlySpan<byte>, bool>? DropFilter { get; set; }

    /// <summary>Packets this end sent.</summary>
    public long Sent { get; private set; }

    /// <summary>Packets this end sent that the link lost (random loss).</summary>
    public long Lost { get; private set; }

    /// <summary>Packets this end sent that <see cref="DropFilter"/> dropped.</summary>
    public long Filtered { get; private set; }

    /// <summary>Packets this end sent that the link duplicated.</summary>
    public long Duplicated { get; private set; }

    /// <summary>Packets this end sent that the far end's full queue dropped.</summary>
    public long Overflowed { get; private set; }

    /// <summary>Packets this end received.</summary>
    public long Received { get; private set; }

    /// <summary>Packets on their way to this end (delivered or not yet due).</summary>
    public int InFlight
    {
        get { lock (_link.Lock) { return _inbound.Count; } }
    }

    internal InMemoryPacketLinkEnd Peer { get; set; } = null!;

    /// <inheritdoc />
    public IPacketQueue OpenQueue(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(index, 0);
        if (_opened)
        {
            throw new InvalidOperationException("The queue of an in-memory link end is opened once.");
        }

        _opened = true;
        return this;
    }

    /// <inheritdoc />
    public bool Wait(int timeoutMs)
    {
        lock (_link.Lock)
        {
            var deadline = timeoutMs > 0 ? Environment.TickCount64 + timeoutMs : 0;
            while (!_woken && !HasDueLocked())
            {
                if (timeoutMs == 0)
                {
                    return false;
                }

                int wait = timeoutMs < 0 ? Timeout.Infinite : (int)Math.Max(0, deadline - Environment.TickCount64);
                if (timeoutMs > 0 && wait == 0)
                {
                    return false;
                }

                Monitor.Wait(_link.Lock, wait);
            }

            _woken = false;
            return true;
        }
    }

    /// <inheritdoc />
    public void Wake()
    {
        lock (_link.Lock)
        {
            _woken = true;
            Monitor.PulseAll(_link.Lock);
        }
    }

    /// <inheritdoc />
    public int TryReceive(Span<byte> buffer)
    {
        lock (_link.Lock)
        {
            if (!HasDueLocked())
            {
                return 0;
            }

            var packet = _inbound[0];
            _inbound.RemoveAt(0);
            int length = Math.Min(packet.Length, buffer.Length);
            packet.Buffer.AsSpan(0, length).CopyTo(buffer);
            ArrayPool<byte>.Shared.Return(packet.Buffer);
            Received++;
            return length;
        }
    }

    /// <inheritdoc />
    public void Send(ReadOnlySpan<byte> packet)
    {
        lock (_link.Lock)
        {
            Sent++;
            if (DropFilter is { } filter && filter(packet))
            {
                Filtered++;
                return;
            }

            int copies = _link.Fate(out uint extraFirst, out uint extraSecond);
            if (copies == 0)
            {
                Lost++;
                return;
            }

            if (copies == 2)
            {
                Duplicated++;
            }

            uint due = _link.NowLocked + _link.DelayMs;
            Peer.EnqueueLocked(packet, due + extraFirst, this);
            if (copies == 2)
            {
                Peer.EnqueueLocked(packet, due + extraSecond, this);
            }

            Monitor.PulseAll(_link.Lock);
        }
    }

    /// <summary>Drops everything in flight towards this end.</summary>
    public void Clear()
    {
        lock (_link.Lock)
        {
            foreach (var packet in _inbound)
            {
                ArrayPool<byte>.Shared.Return(packet.Buffer);
            }

            _inbound.Clear();
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Clear();
        Wake();
    }

    public override string ToString() => $"link end {_name}: sent {Sent}, lost {Lost}, filtered {Filtered}, duplicated {Duplicated}, received {Received}";

    private void EnqueueLocked(ReadOnlySpan<byte> packet, uint due, InMemoryPacketLinkEnd from)
    {
        if (_inbound.Count >= _link.Capacity)
        {
            from.Overflowed++;
            return;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(1, packet.Length));
        packet.CopyTo(buffer);
        var entry = new InFlightPacket(buffer, packet.Length, due, _sequence++);

        // Insertion from the back: packets mostly arrive in due order, so this is usually one comparison.
        int i = _inbound.Count;
        while (i > 0 && (int)(_inbound[i - 1].Due - due) > 0)
        {
            i--;
        }

        _inbound.Insert(i, entry);
    }

    private bool HasDueLocked() => _inbound.Count > 0 && (int)(_inbound[0].Due - _link.NowLocked) <= 0;

    private readonly record struct InFlightPacket(byte[] Buffer, int Length, uint Due, long Sequence);
}
