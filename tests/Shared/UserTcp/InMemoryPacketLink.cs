using KcpKestrel.Transport.UserTcp.Packets;

namespace KcpKestrel.Tests.Shared.UserTcp;

/// <summary>
/// Two packet sources, <see cref="A"/> and <see cref="B"/> (one queue each), joined by a link with seeded loss,
/// duplication, reordering and a fixed delay, on a manual clock. What one end sends the other end receives once the
/// link's <see cref="Now"/> reaches the packet's due time.
/// <para>
/// How to drive it: give each stack one end (<c>link.A.OpenQueue(0)</c>); then repeat
/// <c>link.Advance(ms)</c> and pump each stack (its queue's <see cref="IPacketQueue.TryReceive"/> until 0, then its
/// timers at <c>link.Now</c>). With <see cref="DelayMs"/> 0 a packet is receivable as soon as it is sent.
/// A loop thread may also block in <see cref="IPacketQueue.Wait"/> (real-time timeout): <see cref="Advance"/> and
/// deliverable sends wake it. The same seed and the same sends give the same fate to every packet.
/// </para>
/// </summary>
internal sealed class InMemoryPacketLink
{
    private readonly object _lock = new();
    private readonly Random _random;
    private uint _now;

    public InMemoryPacketLink(int seed, int mtu = 1500, uint startTime = 0)
    {
        _random = new Random(seed);
        _now = startTime;
        A = new InMemoryPacketLinkEnd(this, mtu, "A");
        B = new InMemoryPacketLinkEnd(this, mtu, "B");
        A.Peer = B;
        B.Peer = A;
    }

    /// <summary>One end; what it sends goes to <see cref="B"/>.</summary>
    public InMemoryPacketLinkEnd A { get; }

    /// <summary>The other end; what it sends goes to <see cref="A"/>.</summary>
    public InMemoryPacketLinkEnd B { get; }

    /// <summary>The link's clock in ms (wrapping, like the loops' clocks).</summary>
    public uint Now
    {
        get { lock (_lock) { return _now; } }
    }

    /// <summary>Chance (0..1) that a packet is lost.</summary>
    public double LossRate { get; set; }

    /// <summary>Chance (0..1) that a packet arrives twice.</summary>
    public double DuplicateRate { get; set; }

    /// <summary>Chance (0..1) that a packet is held back by up to <see cref="ReorderDelayMs"/> beyond the delay.</summary>
    public double ReorderRate { get; set; }

    /// <summary>The most a reordered packet is held back beyond <see cref="DelayMs"/> (at least 1 ms).</summary>
    public uint ReorderDelayMs { get; set; } = 5;

    /// <summary>One-way delay of every packet, ms.</summary>
    public uint DelayMs { get; set; }

    /// <summary>Packets in flight towards each end beyond which sends are dropped (counted), as a full queue would.</summary>
    public int Capacity { get; set; } = 65536;

    /// <summary>Moves the clock on and wakes waiting loops whose packets are now due.</summary>
    public void Advance(uint ms)
    {
        lock (_lock)
        {
            _now += ms;
            Monitor.PulseAll(_lock);
        }
    }

    internal object Lock => _lock;

    internal uint NowLocked => _now;

    /// <summary>Decides a sent packet's fate (called under the lock): how many copies and each copy's extra delay.</summary>
    internal int Fate(out uint extraFirst, out uint extraSecond)
    {
        extraFirst = extraSecond = 0;
        if (LossRate > 0 && _random.NextDouble() < LossRate)
        {
            return 0;
        }

        int copies = DuplicateRate > 0 && _random.NextDouble() < DuplicateRate ? 2 : 1;
        if (ReorderRate > 0 && _random.NextDouble() < ReorderRate)
        {
            extraFirst = 1 + (uint)_random.Next((int)Math.Max(1, ReorderDelayMs));
        }

        if (copies == 2 && ReorderRate > 0 && _random.NextDouble() < ReorderRate)
        {
            extraSecond = 1 + (uint)_random.Next((int)Math.Max(1, ReorderDelayMs));
        }

        return copies;
    }
}
