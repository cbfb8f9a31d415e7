using KcpKestrel.Transport.Kcp.Io.Loops;

namespace KcpKestrel.Transport.Kcp.Sessions;

/// <summary>
/// A listener's receive budget (<see cref="KcpOptions.ListenerReceiveBudget"/>): the bytes all its sessions
/// may hold together. Loops take it in chunks (<see cref="LoopReceiveMemory"/>), so the shared total moves
/// by one atomic add per chunk, not per segment, and never past the budget. Thread-safe.
/// </summary>
internal sealed class ListenerReceiveMemory
{
    private readonly List<LoopReceiveMemory> _loops = [];
    private long _reserved;
    private long _peakReserved;

    public ListenerReceiveMemory(long budget)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(budget);
        Budget = budget;
    }

    /// <summary>Bytes the listener's sessions may hold together.</summary>
    public long Budget { get; }

    /// <summary>Bytes taken by the loops (what their sessions hold plus each loop's unused chunk).</summary>
    public long Reserved => Volatile.Read(ref _reserved);

    /// <summary>The most <see cref="Reserved"/> has been: an upper bound of what sessions ever held together.</summary>
    public long PeakReserved => Volatile.Read(ref _peakReserved);

    /// <summary>Bytes the listener's sessions hold now (receive buffers, FEC shards, data the app has not read).</summary>
    public long Held
    {
        get
        {
            long held = 0;
            lock (_loops)
            {
                foreach (var loop in _loops)
                {
                    held += loop.Held;
                }
            }

            return held;
        }
    }

    /// <summary>Bytes not yet taken by any loop.</summary>
    public long Unreserved => Budget - Reserved;

    /// <summary>A share for one loop of the listener.</summary>
    public LoopReceiveMemory CreateLoopShare(IKcpLoop loop)
    {
        var share = new LoopReceiveMemory(this, loop);
        lock (_loops)
        {
            _loops.Add(share);
        }

        return share;
    }

    /// <summary>Takes <paramref name="bytes"/> unless that would pass the budget.</summary>
    internal bool TryReserve(long bytes)
    {
        var current = Volatile.Read(ref _reserved);
        while (true)
        {
            if (current + bytes > Budget)
            {
                return false;
            }

            var seen = Interlocked.CompareExchange(ref _reserved, current + bytes, current);
            if (seen == current)
            {
                NotePeak(current + bytes);
                return true;
            }

            current = seen;
        }
    }

    /// <summary>
    /// Takes <paramref name="bytes"/> that are already held and cannot be refused (data moved from the receive
    /// queue into the app's pipe, after the queue gave back at least as much).
    /// </summary>
    internal void ForceReserve(long bytes) => NotePeak(Interlocked.Add(ref _reserved, bytes));

    internal void Return(long bytes) => Interlocked.Add(ref _reserved, -bytes);

    private void NotePeak(long reserved)
    {
        var peak = Volatile.Read(ref _peakReserved);
        while (reserved > peak)
        {
            var seen = Interlocked.CompareExchange(ref _peakReserved, reserved, peak);
            if (seen == peak)
            {
                return;
            }

            peak = seen;
        }
    }
}
