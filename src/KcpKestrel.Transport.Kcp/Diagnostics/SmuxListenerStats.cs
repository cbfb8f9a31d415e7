using System.Collections.Concurrent;
using KcpKestrel.Smux;

namespace KcpKestrel.Transport.Kcp.Diagnostics;

/// <summary>
/// The smux figures of one multiplexing listener, for the meter and serve's report: the live sessions (their
/// counters are read at scrape time) plus the totals of those that ended. Touched once per session and once per
/// accepted stream, never per frame.
/// </summary>
internal sealed class SmuxListenerStats
{
    private readonly ConcurrentDictionary<SmuxSession, byte> _live = new();
    private long _sessionsOpened;
    private long _streamsAccepted;
    private long _endedProtocolErrors;
    private long _endedKeepAliveTimeouts;
    private long _endedStreamsRefused;
    private long _endedStreamsReset;
    private long _endedFramesIgnored;

    /// <summary>smux sessions running now.</summary>
    public int SessionsActive => _live.Count;

    /// <summary>smux sessions started since the listener bound.</summary>
    public long SessionsOpened => Interlocked.Read(ref _sessionsOpened);

    /// <summary>Streams handed to the app as connections.</summary>
    public long StreamsAccepted => Interlocked.Read(ref _streamsAccepted);

    /// <summary>Streams open now over all live sessions (in the app, or waiting to be accepted).</summary>
    public long StreamsActive
    {
        get
        {
            long total = 0;
            foreach (var session in _live.Keys)
            {
                total += session.StreamCount;
            }

            return total;
        }
    }

    public void OnSessionStarted(SmuxSession session)
    {
        Interlocked.Increment(ref _sessionsOpened);
        _live.TryAdd(session, 0);
    }

    public void OnStreamAccepted() => Interlocked.Increment(ref _streamsAccepted);

    /// <summary>Moves an ended session's counters into the totals (once: the session is then no longer live).</summary>
    public void OnSessionEnded(SmuxSession session)
    {
        if (_live.TryRemove(session, out _))
        {
            var c = session.Counters;
            Interlocked.Add(ref _endedProtocolErrors, c.ProtocolErrors);
            Interlocked.Add(ref _endedKeepAliveTimeouts, c.KeepAliveTimeouts);
            Interlocked.Add(ref _endedStreamsRefused, c.StreamsRefused);
            Interlocked.Add(ref _endedStreamsReset, c.StreamsReset);
            Interlocked.Add(ref _endedFramesIgnored, c.FramesIgnored);
        }
    }

    /// <summary>Problems counted by the sessions (ended and live), as (kind tag, count).</summary>
    public (long ProtocolErrors, long KeepAliveTimeouts, long StreamsRefused, long StreamsReset, long FramesIgnored) GetErrors()
    {
        long protocol = Interlocked.Read(ref _endedProtocolErrors);
        long keepAlive = Interlocked.Read(ref _endedKeepAliveTimeouts);
        long refused = Interlocked.Read(ref _endedStreamsRefused);
        long reset = Interlocked.Read(ref _endedStreamsReset);
        long ignored = Interlocked.Read(ref _endedFramesIgnored);
        foreach (var session in _live.Keys)
        {
            var c = session.Counters;
            protocol += c.ProtocolErrors;
            keepAlive += c.KeepAliveTimeouts;
            refused += c.StreamsRefused;
            reset += c.StreamsReset;
            ignored += c.FramesIgnored;
        }

        return (protocol, keepAlive, refused, reset, ignored);
    }

    /// <summary>The <c>reason</c> tag for an smux session's close reason (SmuxSession.CloseReason's text).</summary>
    public static string ReasonName(string? reason) => reason switch
    {
        null => "none",
        "keepalive timeout" => "keepalive_timeout",
        "closed locally" => "local_close",
        _ when reason.StartsWith("protocol error", StringComparison.Ordinal) => "protocol_error",
        _ when reason.StartsWith("transport", StringComparison.Ordinal) => "transport_closed",
        _ => "other",
    };
}
