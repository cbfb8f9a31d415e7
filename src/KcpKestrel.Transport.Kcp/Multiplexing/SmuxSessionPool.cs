using KcpKestrel.Smux;

namespace KcpKestrel.Transport.Kcp.Multiplexing;

/// <summary>
/// The smux sessions of one endpoint, as kcptun's client keeps them (client/main.go): <c>--conn</c> slots taken round
/// robin, one stream per caller. A slot is dialed on first use; a closed session, or one past <c>--autoexpire</c>, is
/// replaced when its slot is next used. An expired session keeps its open streams and is closed <c>--scavengettl</c>
/// after its expiry, whether or not streams remain (kcptun's scavenger does not close it sooner when its last stream
/// ends, and neither does this). Time comes from the injected <see cref="TimeProvider"/>.
/// </summary>
internal sealed class SmuxSessionPool : IAsyncDisposable
{
    private readonly Slot[] _slots;
    private readonly TimeSpan _autoExpire;
    private readonly TimeSpan _scavengeTtl;
    private readonly TimeProvider _time;
    private readonly Func<CancellationToken, Task<SmuxPoolSession>> _dial;
    private readonly string _target;
    private readonly HashSet<SmuxPoolSession> _live = [];
    private readonly CancellationTokenSource _disposing = new();
    private int _next = -1;
    private int _dialed;

    /// <param name="sessions">Slots (kcptun <c>--conn</c>).</param>
    /// <param name="autoExpire">How long a session takes new streams; zero: forever.</param>
    /// <param name="scavengeTtl">How long an expired session lives on for its streams.</param>
    /// <param name="time">The clock of expiry and scavenging.</param>
    /// <param name="dial">Dials one session (with its own timeout and retries); cancelled only when the pool is disposed.</param>
    /// <param name="target">The endpoint, for error messages.</param>
    public SmuxSessionPool(int sessions, TimeSpan autoExpire, TimeSpan scavengeTtl, TimeProvider time, Func<CancellationToken, Task<SmuxPoolSession>> dial, string target)
    {
        _slots = new Slot[sessions];
        for (var i = 0; i < _slots.Length; i++)
        {
            _slots[i] = new Slot();
        }

        _autoExpire = autoExpire;
        _scavengeTtl = scavengeTtl;
        _time = time;
        _dial = dial;
        _target = target;
    }

    /// <summary>Sessions dialed successfully so far, replacements included.</summary>
    public int SessionsDialed => Volatile.Read(ref _dialed);

    /// <summary>Sessions not yet closed by the pool (in a slot, or expired and serving their last streams).</summary>
    public int LiveSessions
    {
        get
        {
            lock (_live)
            {
                return _live.Count;
            }
        }
    }

    /// <summary>The sessions not yet closed by the pool, for tests and diagnostics.</summary>
    public SmuxPoolSession[] Snapshot()
    {
        lock (_live)
        {
            return [.. _live];
        }
    }

    /// <summary>
    /// Opens a stream on the next slot's session. When the open fails because that session is dead, the slot is
    /// redialed once and the open retried; a second failure throws.
    /// </summary>
    /// <exception cref="IOException">No stream could be opened, with the reason.</exception>
    public async ValueTask<(SmuxPoolSession Session, SmuxStream Stream)> OpenStreamAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposing.IsCancellationRequested, this);
        var slot = _slots[(uint)Interlocked.Increment(ref _next) % (uint)_slots.Length];
        var session = await GetSessionAsync(slot, retired: null, cancellationToken).ConfigureAwait(false);
        string reason;
        try
        {
            return (session, await session.Smux.OpenStreamAsync(cancellationToken).ConfigureAwait(false));
        }
        catch (IOException ex)
        {
            reason = ex.Message;
        }

        session = await GetSessionAsync(slot, retired: session, cancellationToken).ConfigureAwait(false);
        try
        {
            return (session, await session.Smux.OpenStreamAsync(cancellationToken).ConfigureAwait(false));
        }
        catch (IOException ex)
        {
            throw new IOException($"No smux stream could be opened to {_target}: {reason}; on a redialed session: {ex.Message}", ex);
        }
    }

    /// <summary>Whether a session in a slot takes the next stream: open, and not past its expiry.</summary>
    internal static bool IsUsable(SmuxPoolSession session, long now) => !session.IsClosed && now <= session.ExpiresAt;

    /// <summary>
    /// The slot's session, dialing (once, however many callers wait) when it has none usable. A caller's cancellation
    /// ends its wait, not the shared dial. <paramref name="retired"/>, a session an open just failed on, is replaced
    /// even when it still looks usable.
    /// </summary>
    private ValueTask<SmuxPoolSession> GetSessionAsync(Slot slot, SmuxPoolSession? retired, CancellationToken cancellationToken)
    {
        Task<SmuxPoolSession> dial;
        SmuxPoolSession? replaced = null;
        lock (slot)
        {
            var current = slot.Session;
            if (current is { IsCompletedSuccessfully: true } && current.Result != retired && IsUsable(current.Result, _time.GetTimestamp()))
            {
                return new ValueTask<SmuxPoolSession>(current.Result);
            }

            if (current is { IsCompleted: false })
            {
                dial = current;
            }
            else
            {
                // An expired session stays open for its streams until the scavenger's deadline; a dead one goes now.
                if (current is { IsCompletedSuccessfully: true } && current.Result.IsClosed)
                {
                    replaced = current.Result;
                }

                dial = slot.Session = DialAsync();
            }
        }

        if (replaced is not null)
        {
            _ = CloseAsync(replaced);
        }

        return new ValueTask<SmuxPoolSession>(dial.WaitAsync(cancellationToken));
    }

    private async Task<SmuxPoolSession> DialAsync()
    {
        var session = await _dial(_disposing.Token).ConfigureAwait(false);
        lock (_live)
        {
            if (!_disposing.IsCancellationRequested)
            {
                _live.Add(session);
                session.StartExpiry(_time, _autoExpire, _scavengeTtl);
                Interlocked.Increment(ref _dialed);
                _ = ForgetWhenClosedAsync(session);
                return session;
            }
        }

        await session.DisposeAsync().ConfigureAwait(false);
        throw new ObjectDisposedException(nameof(SmuxSessionPool));
    }

    /// <summary>Drops a session from the live set once it closed, however it closed (peer, keepalive, scavenger).</summary>
    private async Task ForgetWhenClosedAsync(SmuxPoolSession session)
    {
        await session.Smux.Completion.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await CloseAsync(session).ConfigureAwait(false);
    }

    private async Task CloseAsync(SmuxPoolSession session)
    {
        lock (_live)
        {
            _live.Remove(session);
        }

        await session.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Closes every session: those in slots and expired ones still serving streams.</summary>
    public async ValueTask DisposeAsync()
    {
        SmuxPoolSession[] sessions;
        lock (_live)
        {
            if (_disposing.IsCancellationRequested)
            {
                return;
            }

            _disposing.Cancel();
            sessions = [.. _live];
            _live.Clear();
        }

        foreach (var session in sessions)
        {
            await session.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>One of the <c>--conn</c> places: the current session, or the dial that will fill it.</summary>
    private sealed class Slot
    {
        public Task<SmuxPoolSession>? Session;
    }
}
