using System.Collections.Concurrent;
using System.Diagnostics;

namespace KcpKestrel.Cli.Bench;

/// <summary>What the sessions of one sessions run add up to; every member is safe to call from any session's task.</summary>
internal sealed class SessionTally(int expectedRoundTrips)
{
    // Per KCP session, its latest figures: with smux many streams share a session, whose counters count once.
    private readonly ConcurrentDictionary<uint, SessionFigures> _figures = new();
    private readonly RttRecorder _redials = new();
    private int _errors;
    private string? _firstError;
    private int _endedEof;
    private int _endedError;
    private int _endedTimeout;
    private int _redialed;
    private int _failed;

    /// <summary>Every round trip of every session.</summary>
    public RttRecorder Rtts { get; } = new(expectedRoundTrips);

    /// <summary>The round trips of the sessions that never ended.</summary>
    public RttRecorder KeptRtts { get; } = new(expectedRoundTrips);

    public int Errors => Volatile.Read(ref _errors);

    public string? FirstError => Volatile.Read(ref _firstError);

    public void Error(string message)
    {
        Interlocked.Increment(ref _errors);
        Interlocked.CompareExchange(ref _firstError, message, null);
    }

    public void Ended(SessionEnding how)
    {
        switch (how)
        {
            case SessionEnding.Eof:
                Interlocked.Increment(ref _endedEof);
                break;
            case SessionEnding.Error:
                Interlocked.Increment(ref _endedError);
                break;
            default:
                Interlocked.Increment(ref _endedTimeout);
                break;
        }
    }

    /// <param name="foundEnded">When the ended session was found ended (a <see cref="Stopwatch"/> timestamp).</param>
    public void Redialed(long foundEnded)
    {
        Interlocked.Increment(ref _redialed);
        _redials.Add(foundEnded);
    }

    /// <summary>A redial gave up: an error too, the session's run is over.</summary>
    public void Failed(string message)
    {
        Interlocked.Increment(ref _failed);
        Error(message);
    }

    /// <summary>A session's round trips, once it is over.</summary>
    public void AddRtts(RttRecorder session, bool kept)
    {
        Rtts.AddRange(session);
        if (kept)
        {
            KeptRtts.AddRange(session);
        }
    }

    /// <summary>A connection's latest KCP figures (nothing on TCP).</summary>
    public void AddFigures(BenchConnection connection)
    {
        if (connection.Session is { } session)
        {
            var latest = connection.Statistics();
            _figures.AddOrUpdate(session.Conv, latest, (_, seen) => SessionFigures.Latest(seen, latest));
        }
    }

    public SessionFigures Figures()
    {
        SessionFigures total = default;
        foreach (var f in _figures.Values)
        {
            total += f;
        }

        return total;
    }

    public SessionEndings Endings(int dialAttempts)
    {
        var eof = Volatile.Read(ref _endedEof);
        var error = Volatile.Read(ref _endedError);
        var timeout = Volatile.Read(ref _endedTimeout);
        var redials = _redials.Summary();
        return new SessionEndings(
            eof + error + timeout,
            eof,
            error,
            timeout,
            Volatile.Read(ref _redialed),
            Volatile.Read(ref _failed),
            Math.Round(redials.P50 / 1000, 3),
            Math.Round(redials.Max / 1000, 3),
            KeptRtts.Summary().P99,
            dialAttempts);
    }
}
