using KcpKestrel.Core.Arq;
using KcpKestrel.Transport.Kcp.Diagnostics;

namespace KcpKestrel.Transport.Kcp.Sessions;

/// <summary>
/// One session's receive budget (<see cref="KcpOptions.SessionReceiveBudget"/>) over everything it holds
/// for its peer: KCP's rcv_buf and rcv_queue, FEC shards kept for recovery, and bytes in the app's pipe not
/// yet read. KCP and FEC ask before they buffer, so a hold that does not fit this budget (or the
/// listener's) is refused and the data dropped before it is buffered. Loop thread only.
/// </summary>
internal sealed class SessionReceiveMemory : IReceiveBudget
{
    private readonly long _limit;
    private readonly LoopReceiveMemory? _loop;
    private readonly KcpTransportCounters _counters;
    private readonly Action _reclaim;
    private Func<long>? _pipeUnread;
    private long _held;
    private long _pipeHeld;
    private bool _closed;

    /// <param name="limit">The session's budget in bytes.</param>
    /// <param name="loop">The loop's share of its listener's budget; null without one (a client).</param>
    /// <param name="counters">Where refused holds are counted.</param>
    /// <param name="reclaim">Ends the session when the loop needs its memory back.</param>
    public SessionReceiveMemory(long limit, LoopReceiveMemory? loop, KcpTransportCounters counters, Action reclaim)
    {
        _limit = limit;
        _loop = loop;
        _counters = counters;
        _reclaim = reclaim;
        _loop?.Add(this);
    }

    /// <summary>Position in the loop's list of sessions (see <see cref="LoopReceiveMemory"/>).</summary>
    internal int Index { get; set; } = -1;

    /// <summary>Bytes held now, the app's unread bytes as last seen.</summary>
    public long Held => _held;

    public long Available
    {
        get
        {
            SyncPipe();
            var own = _limit - _held;
            return _loop is null ? own : Math.Min(own, _loop.Available);
        }
    }

    /// <summary>Counts the app's unread bytes (what was written to its pipe and not yet consumed) in the budget.</summary>
    public void AttachPipe(Func<long> unread) => _pipeUnread = unread;

    public bool TryHold(int bytes)
    {
        if (_closed)
        {
            return false;
        }

        SyncPipe();
        if (_held + bytes > _limit)
        {
            _counters.DroppedSessionBudget++;
            return false;
        }

        if (_loop is not null && !_loop.TryHold(bytes))
        {
            _counters.DroppedListenerBudget++;
            return false;
        }

        _held += bytes;
        return true;
    }

    public void Release(int bytes)
    {
        if (_closed)
        {
            return;
        }

        _held -= bytes;
        _loop?.Release(bytes);
    }

    /// <summary>Brings the pipe's share up to date: more written (already taken from rcv_queue, so never refused) or read since.</summary>
    public void SyncPipe()
    {
        if (_pipeUnread is null || _closed)
        {
            return;
        }

        var unread = Math.Max(_pipeUnread(), 0);
        var delta = unread - _pipeHeld;
        if (delta == 0)
        {
            return;
        }

        _pipeHeld = unread;
        _held += delta;
        if (delta > 0)
        {
            _loop?.ForceHold((int)Math.Min(delta, int.MaxValue));
        }
        else
        {
            _loop?.Release(-delta);
        }
    }

    /// <summary>
    /// The session ended: nobody will read what it still buffers, so <paramref name="kcp"/>'s and
    /// <paramref name="input"/>'s buffers go now, not when Kestrel lets go of the connection; all it counted
    /// goes back (the pipe's share too: the app's pipe is complete), and it leaves the loop's list.
    /// </summary>
    public void Close(KcpControlBlock kcp, KcpDatagramInput input)
    {
        if (_closed)
        {
            return;
        }

        _closed = true;
        _loop?.Release(_held);
        _loop?.Remove(this);
        _held = 0;
        _pipeHeld = 0;
        kcp.ReleaseReceived();
        input.ReleaseHeld();
    }

    /// <summary>Asked to end already (the loop does not pick it twice).</summary>
    internal bool IsReclaimed { get; private set; }

    /// <summary>Called by the loop under listener-wide pressure: ends the session (which calls <see cref="Close"/>).</summary>
    internal void Reclaim()
    {
        IsReclaimed = true;
        _reclaim();
    }
}
