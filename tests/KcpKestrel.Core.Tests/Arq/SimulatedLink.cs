namespace KcpKestrel.Core.Tests.Arq;

/// <summary>
/// An in-memory datagram link in virtual time: seeded loss, base delay, jitter (which reorders) and
/// duplication. Deterministic for a given seed.
/// </summary>
internal sealed class SimulatedLink
{
    private readonly Random _random;
    private readonly PriorityQueue<(int To, byte[] Datagram), (long At, long Seq)> _inFlight = new();
    private long _seq;

    public SimulatedLink(int seed, double loss, int delayMs, int jitterMs, double duplication)
    {
        _random = new Random(seed);
        Loss = loss;
        DelayMs = delayMs;
        JitterMs = jitterMs;
        Duplication = duplication;
    }

    public double Loss { get; }

    public int DelayMs { get; }

    public int JitterMs { get; }

    public double Duplication { get; }

    /// <summary>Virtual time in ms since the start of the run.</summary>
    public long Now { get; set; }

    public int Sent { get; private set; }

    public int Dropped { get; private set; }

    public long NextArrival => _inFlight.TryPeek(out _, out var key) ? key.At : long.MaxValue;

    /// <summary>Drops the datagrams it returns true for (to, datagram), before any random loss.</summary>
    public Func<int, byte[], bool>? DropIf { get; set; }

    public void Send(int to, ReadOnlySpan<byte> datagram)
    {
        Sent++;
        if (DropIf is { } dropIf && dropIf(to, datagram.ToArray()))
        {
            Dropped++;
            return;
        }

        var copies = _random.NextDouble() < Duplication ? 2 : 1;
        for (var i = 0; i < copies; i++)
        {
            if (_random.NextDouble() < Loss)
            {
                Dropped++;
                continue;
            }

            var at = Now + DelayMs + (JitterMs > 0 ? _random.Next(JitterMs + 1) : 0);
            _inFlight.Enqueue((to, datagram.ToArray()), (at, _seq++));
        }
    }

    /// <summary>Removes and returns the next datagram due at or before <see cref="Now"/>.</summary>
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
