namespace KcpKestrel.Multicast.Tests.Harness;

/// <summary>
/// One direction of a simulated network path: a seeded drop rate, a fixed delay, and a share of
/// packets held back for extra time (reordering). Deterministic for a given seed and input.
/// <see cref="QueueLimit"/> makes it a receive socket's buffer: datagrams past it are dropped, as the
/// kernel drops them for a subscriber that reads slower than its publisher sends.
/// </summary>
internal sealed class LossyLink(int seed, double dropRate, double reorderRate = 0, long delay = 100, long reorderDelay = 400)
{
    private readonly Random _random = new(seed);
    private readonly PriorityQueue<byte[], (long At, long Order)> _inFlight = new();
    private long _order;

    public long Dropped { get; private set; }

    /// <summary>Datagrams in flight past which new ones are dropped (counted in <see cref="Dropped"/>).</summary>
    public int QueueLimit { get; set; } = int.MaxValue;

    /// <summary>Drops everything while true (a subscriber that stopped reading).</summary>
    public bool Deaf { get; set; }

    public void Send(ReadOnlySpan<byte> datagram, long now)
    {
        if (Deaf || _random.NextDouble() < dropRate || _inFlight.Count >= QueueLimit)
        {
            Dropped++;
            return;
        }

        var at = now + delay + (_random.NextDouble() < reorderRate ? reorderDelay : 0);
        _inFlight.Enqueue(datagram.ToArray(), (at, _order++));
    }

    /// <summary>The next datagram due at <paramref name="now"/>, if any.</summary>
    public bool TryReceive(long now, out byte[] datagram)
    {
        if (_inFlight.TryPeek(out var next, out var due) && due.At <= now)
        {
            datagram = _inFlight.Dequeue();
            return true;
        }

        datagram = [];
        return false;
    }
}
