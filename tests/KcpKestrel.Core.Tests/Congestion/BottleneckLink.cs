namespace KcpKestrel.Core.Tests.Congestion;

/// <summary>
/// A path in virtual ms time with a bottleneck from A to B: datagrams queue behind it at a fixed rate, a
/// full queue drops the tail, then both directions add a propagation delay and seeded random loss.
/// Deterministic for a given seed; records how long datagrams waited in the bottleneck's queue.
/// </summary>
internal sealed class BottleneckLink(int seed, double bytesPerMs, int delayMs, int queueBytes, double loss)
{
    private readonly Random _random = new(seed);
    private readonly PriorityQueue<(int To, byte[] Datagram), (double At, long Seq)> _inFlight = new();
    private long _seq;
    private double _busyUntil;

    /// <summary>Virtual time in ms.</summary>
    public long Now { get; set; }

    /// <summary>Bytes that crossed the bottleneck.</summary>
    public long ForwardBytes { get; private set; }

    public int RandomDrops { get; private set; }

    public int QueueDrops { get; private set; }

    /// <summary>The longest and the summed queueing delays (ms) of datagrams that crossed the bottleneck, and their count.</summary>
    public double MaxQueueDelay { get; private set; }

    public double SumQueueDelay { get; private set; }

    public long Forwarded { get; private set; }

    /// <summary>Forgets the queueing figures (to measure the steady state only).</summary>
    public void ResetFigures()
    {
        MaxQueueDelay = SumQueueDelay = 0;
        Forwarded = ForwardBytes = 0;
        RandomDrops = QueueDrops = 0;
    }

    /// <summary>Sends from A (to = 1, through the bottleneck) or from B (to = 0).</summary>
    public void Send(int to, ReadOnlySpan<byte> datagram)
    {
        if (_random.NextDouble() < loss)
        {
            RandomDrops++;
            return;
        }

        double at = Now;
        if (to == 1)
        {
            var start = Math.Max(Now, _busyUntil);
            if ((start - Now) * bytesPerMs + datagram.Length > queueBytes)
            {
                QueueDrops++;
                return;
            }

            _busyUntil = start + (datagram.Length / bytesPerMs);
            var waited = start - Now;
            MaxQueueDelay = Math.Max(MaxQueueDelay, waited);
            SumQueueDelay += waited;
            Forwarded++;
            ForwardBytes += datagram.Length;
            at = _busyUntil;
        }

        _inFlight.Enqueue((to, datagram.ToArray()), (at + delayMs, _seq++));
    }

    public bool TryReceive(out int to, out byte[] datagram)
    {
        if (_inFlight.TryPeek(out var item, out var key) && key.At <= Now)
        {
            _inFlight.Dequeue();
            (to, datagram) = item;
            return true;
        }

        to = 0;
        datagram = [];
        return false;
    }
}
