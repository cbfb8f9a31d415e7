using KcpKestrel.Transport.UserTcp.Tcp;

namespace KcpKestrel.Tests.Shared.UserTcp;

/// <summary>
/// A segment-level in-memory link for TCP tests: two <see cref="SegmentLinkEnd"/>s, seeded loss, duplication,
/// reordering and delay, and a manual millisecond clock that also drives each end's timer wheel. Deterministic for
/// a seed. Segments in flight live in pooled buffers, so a steady-state transfer over the link allocates nothing.
/// </summary>
internal sealed class SegmentLink
{
    private readonly Random _random;
    private readonly Stack<byte[]> _pool = new();
    private InFlight[] _heap = new InFlight[256];
    private int _count;
    private long _order;

    public SegmentLink(int seed, uint start = 1_000)
    {
        _random = new Random(seed);
        Now = start;
        A = new SegmentLinkEnd(this, "A");
        B = new SegmentLinkEnd(this, "B");
        A.Peer = B;
        B.Peer = A;
        A.Timers.Advance(start);
        B.Timers.Advance(start);
    }

    /// <summary>The clock (ms, wrapping), shared by both ends.</summary>
    public uint Now { get; private set; }

    public SegmentLinkEnd A { get; }

    public SegmentLinkEnd B { get; }

    /// <summary>Segments in flight.</summary>
    public int InFlightCount => _count;

    /// <summary>Sets the same impairments on both directions.</summary>
    public void Impair(double loss, double duplicate = 0, double reorder = 0, int delayMs = 1)
    {
        foreach (var end in new[] { A, B })
        {
            end.LossRate = loss;
            end.DuplicateRate = duplicate;
            end.ReorderRate = reorder;
            end.DelayMs = delayMs;
        }
    }

    /// <summary>Advances the clock by <paramref name="ms"/>, delivering segments and firing timers on the way.</summary>
    public void Advance(int ms) => RunUntil(static () => false, ms);

    /// <summary>
    /// Runs the clock forward, delivering segments and firing timers in time order, until <paramref name="done"/>
    /// holds (checked after every step) or <paramref name="maxMs"/> pass. Returns whether it held.
    /// </summary>
    public bool RunUntil(Func<bool> done, int maxMs)
    {
        var end = Now + (uint)maxMs;
        while (true)
        {
            DeliverDue();
            A.Timers.Advance(Now);
            B.Timers.Advance(Now);
            DeliverDue();
            if (done())
            {
                return true;
            }

            if ((int)(end - Now) <= 0)
            {
                return false;
            }

            // Jump to the next event: a delivery or a timer slot, never past the end.
            var step = (int)(end - Now);
            if (_count > 0)
            {
                step = Math.Min(step, Math.Max(1, (int)(_heap[0].Due - Now)));
            }

            step = Math.Min(step, NextTimer(A));
            step = Math.Min(step, NextTimer(B));
            Now += (uint)Math.Max(1, step);
        }
    }

    private int NextTimer(SegmentLinkEnd end)
    {
        var next = end.Timers.NextTimeout(Now);
        return next < 0 ? int.MaxValue : Math.Max(1, next);
    }

    internal void Transmit(SegmentLinkEnd from, in TcpFlowKey flow, in TcpHeader header, ReadOnlySpan<byte> payload, ReadOnlySpan<byte> tail)
    {
        from.Sent++;
        from.SentBytes += payload.Length + tail.Length;
        if (from.Filter is { } filter)
        {
            var whole = Rent(payload.Length + tail.Length);
            payload.CopyTo(whole);
            tail.CopyTo(whole.AsSpan(payload.Length));
            var keep = filter(flow, header, whole.AsSpan(0, payload.Length + tail.Length));
            _pool.Push(whole);
            if (!keep)
            {
                from.Filtered++;
                return;
            }
        }

        if (from.LossRate > 0 && _random.NextDouble() < from.LossRate)
        {
            from.Lost++;
            return;
        }

        var copies = from.DuplicateRate > 0 && _random.NextDouble() < from.DuplicateRate ? 2 : 1;
        if (copies == 2)
        {
            from.Duplicated++;
        }

        for (var i = 0; i < copies; i++)
        {
            var delay = from.DelayMs;
            if (from.ReorderRate > 0 && _random.NextDouble() < from.ReorderRate)
            {
                from.Reordered++;
                delay += 1 + _random.Next(from.ReorderDelayMs);
            }

            var buffer = Rent(payload.Length + tail.Length);
            payload.CopyTo(buffer);
            tail.CopyTo(buffer.AsSpan(payload.Length));
            Push(new InFlight
            {
                Due = Now + (uint)Math.Max(0, delay),
                Order = _order++,
                To = from.Peer,
                Flow = new TcpFlowKey(flow.RemoteAddress, flow.RemotePort, flow.LocalAddress, flow.LocalPort, flow.IsIPv6),
                Header = header,
                Buffer = buffer,
                Length = payload.Length + tail.Length,
            });
        }
    }

    private void DeliverDue()
    {
        while (_count > 0 && (int)(Now - _heap[0].Due) >= 0)
        {
            var item = Pop();
            item.To.Delivered++;
            item.To.Input?.OnSegment(item.Flow, item.Header, item.Buffer.AsSpan(0, item.Length), Now);
            _pool.Push(item.Buffer);
        }
    }

    private byte[] Rent(int length)
    {
        // One size serves every segment (a TCP payload is under 64 KiB), so the pool never churns.
        var buffer = _pool.Count > 0 ? _pool.Pop() : new byte[65536];
        return length <= buffer.Length ? buffer : new byte[length];
    }

    private static bool Before(in InFlight x, in InFlight y) =>
        (int)(x.Due - y.Due) < 0 || (x.Due == y.Due && x.Order < y.Order);

    private void Push(in InFlight item)
    {
        if (_count == _heap.Length)
        {
            Array.Resize(ref _heap, _count * 2);
        }

        var i = _count++;
        while (i > 0)
        {
            var parent = (i - 1) / 2;
            if (!Before(item, _heap[parent]))
            {
                break;
            }

            _heap[i] = _heap[parent];
            i = parent;
        }

        _heap[i] = item;
    }

    private InFlight Pop()
    {
        var top = _heap[0];
        var last = _heap[--_count];
        _heap[_count] = default;
        var i = 0;
        while (true)
        {
            var child = (2 * i) + 1;
            if (child >= _count)
            {
                break;
            }

            if (child + 1 < _count && Before(_heap[child + 1], _heap[child]))
            {
                child++;
            }

            if (!Before(_heap[child], last))
            {
                break;
            }

            _heap[i] = _heap[child];
            i = child;
        }

        if (_count > 0)
        {
            _heap[i] = last;
        }

        return top;
    }

    private struct InFlight
    {
        public uint Due;
        public long Order;
        public SegmentLinkEnd To;
        public TcpFlowKey Flow;
        public TcpHeader Header;
        public byte[] Buffer;
        public int Length;
    }
}
