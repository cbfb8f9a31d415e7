using KcpKestrel.Transport.Kcp.Io.Loops;

namespace KcpKestrel.Transport.Kcp.Sessions;

/// <summary>
/// One loop's share of its listener's receive budget: what the loop's sessions hold, taken from the
/// listener in chunks. When a hold does not fit the listener's budget, the loop closes its sessions that
/// hold the most (<see cref="KcpCloseReason.MemoryPressure"/>) at the end of its turn, until a
/// sixteenth of the budget is free again (this loop's sessions only: loops share no session state, and
/// the attacker's sessions, spread over the loops by the kernel's hash, are the largest in each). Loop thread only, but <see cref="Held"/>.
/// </summary>
internal sealed class LoopReceiveMemory : ILoopFlushable
{
    // Taken from and given back to the listener in chunks of this size: one atomic add per chunk of traffic.
    private const long Chunk = 64 * 1024;

    private readonly ListenerReceiveMemory _listener;
    private readonly IKcpLoop _loop;
    private readonly List<SessionReceiveMemory> _sessions = [];
    private long _held;
    private long _reserved;
    private bool _reclaimQueued;

    internal LoopReceiveMemory(ListenerReceiveMemory listener, IKcpLoop loop)
    {
        _listener = listener;
        _loop = loop;
    }

    /// <summary>Bytes this loop's sessions hold. Any thread.</summary>
    public long Held => Volatile.Read(ref _held);

    /// <summary>Bytes a session of this loop could still take: this loop's unused chunk and what the listener has left.</summary>
    public long Available => _reserved - _held + _listener.Unreserved;

    public bool TryHold(int bytes)
    {
        var need = _held + bytes - _reserved;
        if (need > 0)
        {
            var chunk = Math.Max(need, Chunk);
            if (_listener.TryReserve(chunk))
            {
                _reserved += chunk;
            }
            else if (_listener.TryReserve(need))
            {
                _reserved += need;
            }
            else
            {
                QueueReclaim();
                return false;
            }
        }

        Volatile.Write(ref _held, _held + bytes);
        return true;
    }

    /// <summary>Holds <paramref name="bytes"/> that cannot be refused (see <see cref="ListenerReceiveMemory.ForceReserve"/>).</summary>
    public void ForceHold(int bytes)
    {
        var need = _held + bytes - _reserved;
        if (need > 0)
        {
            _listener.ForceReserve(need);
            _reserved += need;
        }

        Volatile.Write(ref _held, _held + bytes);
    }

    public void Release(long bytes)
    {
        Volatile.Write(ref _held, _held - bytes);
        var spare = _reserved - _held;
        if (spare > 2 * Chunk)
        {
            // Keep one chunk for the next segments; the rest goes back for other loops.
            _listener.Return(spare - Chunk);
            _reserved -= spare - Chunk;
        }
    }

    internal void Add(SessionReceiveMemory session)
    {
        session.Index = _sessions.Count;
        _sessions.Add(session);
    }

    internal void Remove(SessionReceiveMemory session)
    {
        var last = _sessions[^1];
        _sessions[session.Index] = last;
        last.Index = session.Index;
        _sessions.RemoveAt(_sessions.Count - 1);
        session.Index = -1;
    }

    private void QueueReclaim()
    {
        if (!_reclaimQueued)
        {
            // Not now: the refused hold is inside some session's input, which must not end under it.
            _reclaimQueued = true;
            _loop.MarkDirty(this);
        }
    }

    /// <summary>The end of the turn in which a hold was refused: closes the largest holders, one scan each.</summary>
    public void FlushDirty(uint now)
    {
        _reclaimQueued = false;
        var target = _listener.Budget / 16;
        do
        {
            SessionReceiveMemory? largest = null;
            foreach (var session in _sessions)
            {
                if (!session.IsReclaimed && (largest is null || session.Held > largest.Held))
                {
                    largest = session;
                }
            }

            if (largest is null || largest.Held < target / 16)
            {
                // Only small holders left here: closing them would free little (other loops hold the rest).
                return;
            }

            _loop.Counters.SessionsClosedForMemory++;
            largest.Reclaim();
        }
        while (_listener.Unreserved + (_reserved - _held) < target);
    }
}
