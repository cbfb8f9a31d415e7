using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using KcpKestrel.Transport.Kcp.Connections;
using Microsoft.Extensions.Logging;

namespace KcpKestrel.Transport.Kcp.Diagnostics;

/// <summary>
/// What one listener knows about its sessions beyond the loop counters: the accepted sessions still
/// open (their live statistics feed the queue-depth and retransmission metrics) and the totals of
/// the sessions that closed. Work happens once per session at accept and at close, never per packet.
/// </summary>
internal sealed class KcpListenerDiagnostics
{
    /// <summary>How long session-end sweeps coalesce: at most this many sweeps a second whatever the churn.</summary>
    private static readonly TimeSpan SweepDelay = TimeSpan.FromMilliseconds(100);

    private readonly ConcurrentDictionary<KcpConnection, long> _live = new();
    private readonly KcpMetrics? _metrics;
    private readonly ILogger _logger;
    private long _closedFast;
    private long _closedEarly;
    private long _closedTimeout;
    private long _closedLost;
    private long _closedDuplicate;
    private int _sweepScheduled;
    private KeyValuePair<string, object?> _endpointTag = new(KcpMetrics.EndpointTag, string.Empty);

    public KcpListenerDiagnostics(KcpMetrics? metrics, ILogger logger)
    {
        _metrics = metrics;
        _logger = logger;
    }

    /// <summary>The <c>endpoint</c> tag of this listener's measurements (its bound address).</summary>
    public KeyValuePair<string, object?> EndpointTag => _endpointTag;

    public ILogger Logger => _logger;

    /// <summary>The smux figures when the listener multiplexes (<see cref="KcpMultiplexing.Smux"/>); null otherwise.</summary>
    public SmuxListenerStats? Smux { get; set; }

    public void OnBound(EndPoint localEndPoint) =>
        _endpointTag = new(KcpMetrics.EndpointTag, localEndPoint.ToString());

    /// <summary>An smux session of the listener ended: its figures join the totals, its reason is counted and logged.</summary>
    public void OnSmuxSessionEnded(KcpKestrel.Smux.SmuxSession session, uint conv, EndPoint? remoteEndPoint, long streams)
    {
        Smux?.OnSessionEnded(session);
        var reason = SmuxListenerStats.ReasonName(session.CloseReason);
        _metrics?.RecordSmuxSessionClosed(_endpointTag, reason);
        if (reason is "protocol_error" or "keepalive_timeout")
        {
            KcpLog.SmuxSessionFailed(_logger, conv, remoteEndPoint, session.CloseReason, streams);
        }
        else
        {
            KcpLog.SmuxSessionClosed(_logger, conv, remoteEndPoint, session.CloseReason, streams);
        }
    }

    /// <summary>Called as Kestrel takes the connection from the accept queue.</summary>
    public void OnAccepted(KcpConnection connection)
    {
        _live[connection] = Stopwatch.GetTimestamp();
        KcpLog.SessionOpened(_logger, connection.Conv, connection.RemoteEndPoint, connection.LocalEndPoint);
        connection.ConnectionClosed.Register(static state =>
        {
            var (diagnostics, closed) = ((KcpListenerDiagnostics, KcpConnection))state!;
            diagnostics.OnSessionEnded(closed);
        }, (this, connection));
    }

    /// <summary>
    /// A session of the listener ended (called on the loop thread). Kestrel disposes a connection when
    /// its app returns, often before the graceful close completes, and ConnectionClosed never fires
    /// after that; so the ended sessions are found by a sweep, coalesced so that churn costs at
    /// most one pass over the live sessions per <see cref="SweepDelay"/>.
    /// </summary>
    public void OnSessionReleased()
    {
        if (!_live.IsEmpty && Interlocked.Exchange(ref _sweepScheduled, 1) == 0)
        {
            _ = SweepSoonAsync();
        }
    }

    /// <summary>Records every accepted session that has ended.</summary>
    public void Sweep()
    {
        foreach (var (connection, _) in _live)
        {
            if (connection.CloseReason != KcpCloseReason.None)
            {
                OnSessionEnded(connection);
            }
        }
    }

    private async Task SweepSoonAsync()
    {
        await Task.Delay(SweepDelay).ConfigureAwait(false);
        Volatile.Write(ref _sweepScheduled, 0);
        Sweep();
    }

    /// <summary>Records an accepted session's end once (metrics, totals, debug log). Any thread.</summary>
    public void OnSessionEnded(KcpConnection connection)
    {
        if (!_live.TryRemove(connection, out var openedAt))
        {
            return;
        }

        var stats = connection.GetStatistics();
        var reason = connection.CloseReason;
        Interlocked.Add(ref _closedFast, stats.FastRetransmits);
        Interlocked.Add(ref _closedEarly, stats.EarlyRetransmits);
        Interlocked.Add(ref _closedTimeout, stats.TimeoutRetransmits);
        Interlocked.Add(ref _closedLost, stats.LostSegments);
        Interlocked.Add(ref _closedDuplicate, stats.DuplicateSegments);
        var elapsed = Stopwatch.GetElapsedTime(openedAt);
        _metrics?.RecordSessionClosed(_endpointTag, reason, stats, elapsed);

        if (reason == KcpCloseReason.DeadLink)
        {
            KcpLog.DeadLink(_logger, connection.Conv, connection.RemoteEndPoint, stats.SmoothedRtt, stats.Rto, stats.InFlight);
        }

        KcpLog.SessionClosed(
            _logger,
            connection.Conv,
            connection.RemoteEndPoint,
            reason,
            (long)elapsed.TotalMilliseconds,
            stats.SmoothedRtt,
            stats.Rto,
            stats.FastRetransmits,
            stats.EarlyRetransmits,
            stats.TimeoutRetransmits,
            stats.FecRecovered,
            stats.BytesReceived,
            stats.BytesSent);
    }

    /// <summary>Retransmission totals: closed sessions plus the live ones' latest snapshots.</summary>
    public SessionTotals GetTotals()
    {
        var totals = new SessionTotals
        {
            FastRetransmits = Volatile.Read(ref _closedFast),
            EarlyRetransmits = Volatile.Read(ref _closedEarly),
            TimeoutRetransmits = Volatile.Read(ref _closedTimeout),
            LostSegments = Volatile.Read(ref _closedLost),
            DuplicateSegments = Volatile.Read(ref _closedDuplicate),
        };
        foreach (var (connection, _) in _live)
        {
            var s = connection.GetStatistics();
            totals.FastRetransmits += s.FastRetransmits;
            totals.EarlyRetransmits += s.EarlyRetransmits;
            totals.TimeoutRetransmits += s.TimeoutRetransmits;
            totals.LostSegments += s.LostSegments;
            totals.DuplicateSegments += s.DuplicateSegments;
            totals.SendQueue += s.SendQueue;
            totals.ReceiveQueue += s.ReceiveQueue;
            totals.InFlight += s.InFlight;
        }

        return totals;
    }

    /// <summary>Sums over one listener's sessions.</summary>
    internal struct SessionTotals
    {
        public long FastRetransmits;
        public long EarlyRetransmits;
        public long TimeoutRetransmits;
        public long LostSegments;
        public long DuplicateSegments;
        public long SendQueue;
        public long ReceiveQueue;
        public long InFlight;
    }
}
