namespace KcpKestrel.Transport.Kcp.Sessions;

/// <summary>
/// A session's closing, as one state and its transitions (no I/O here: <see cref="KcpSession"/>
/// acts on what these return). Loop thread only.
/// <code>
/// from              event                                       to
/// Open              app output completed, all of it in KCP      Draining (clock starts)
/// Open, Draining    end with close signal (local close once      Lingering (CloseRepeats left)
///                   all is acked, idle timeout, abort, drain
///                   timeout, shutdown)
/// Open, Draining    end without signal (remote close, dead      Ended
///                   link, replaced, accept queue full)
/// Lingering         one repeat sent, more left                  Lingering
/// Lingering         last repeat sent (or the socket is gone)    Ended
/// Ended             dispose requested (or there never was a     Released
///                   connection to dispose it)
/// </code>
/// A dispose request may come in any state: before the end it only waits (the graceful close
/// runs on), during the linger it waits for the last repeat.
/// </summary>
internal sealed class KcpSessionLifecycle
{
    /// <summary>Extra copies of the close signal after the first, an RTO apart.</summary>
    public const int CloseRepeats = 3;

    /// <summary>Bounds a graceful close whose last bytes are never acknowledged (a peer that vanished).</summary>
    public const uint DrainTimeoutMs = 10_000;

    /// <summary>Bounds of the interval between close repeats (the RTO, clamped).</summary>
    public const uint MinRepeatIntervalMs = 20;
    public const uint MaxRepeatIntervalMs = 500;

    private uint _drainingSince;

    public KcpSessionState State { get; private set; }

    /// <summary>Lingering, Ended or Released: no more bytes move.</summary>
    public bool IsEnded => State >= KcpSessionState.Lingering;

    /// <summary>Kestrel disposed the connection (or a dial was abandoned): release once ended.</summary>
    public bool DisposeRequested { get; private set; }

    /// <summary>Close signal copies still to send while <see cref="KcpSessionState.Lingering"/>.</summary>
    public int RepeatsLeft { get; private set; }

    public static uint RepeatInterval(uint rto) => Math.Clamp(rto, MinRepeatIntervalMs, MaxRepeatIntervalMs);

    /// <summary>Open → Draining.</summary>
    public void OnOutputCompleted(uint now)
    {
        if (State == KcpSessionState.Open)
        {
            State = KcpSessionState.Draining;
            _drainingSince = now;
        }
    }

    /// <summary>Whether a drain has waited for its acks longer than <see cref="DrainTimeoutMs"/>.</summary>
    public bool DrainTimedOut(uint now) =>
        State == KcpSessionState.Draining && (int)(now - _drainingSince) > (int)DrainTimeoutMs;

    /// <summary>Open or Draining → Lingering (with the signal) or Ended; false when already ended.</summary>
    public bool End(bool sendClose)
    {
        if (IsEnded)
        {
            return false;
        }

        State = sendClose ? KcpSessionState.Lingering : KcpSessionState.Ended;
        RepeatsLeft = sendClose ? CloseRepeats : 0;
        return true;
    }

    /// <summary>Counts one close repeat sent; true while more are due, else Lingering → Ended.</summary>
    public bool OnRepeatSent()
    {
        if (--RepeatsLeft > 0)
        {
            return true;
        }

        State = KcpSessionState.Ended;
        return false;
    }

    /// <summary>The socket is gone: the repeat now due is the last, and is not sent.</summary>
    public void OnSocketGone() => RepeatsLeft = Math.Min(RepeatsLeft, 1);

    public void RequestDispose() => DisposeRequested = true;

    /// <summary>Ended → Released; false in any other state.</summary>
    public bool TryRelease()
    {
        if (State != KcpSessionState.Ended)
        {
            return false;
        }

        State = KcpSessionState.Released;
        return true;
    }
}
