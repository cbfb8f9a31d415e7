using KcpKestrel.Core.Arq;
using KcpKestrel.Transport.Kcp.Diagnostics;

namespace KcpKestrel.Transport.Kcp.Sessions;

/// <summary>The latest <see cref="KcpSessionStatistics"/> of a session: written on its loop, read from any thread.</summary>
internal sealed class SessionStatistics
{
    private readonly Lock _lock = new();
    private KcpSessionStatistics _snapshot;

    public KcpSessionStatistics Get()
    {
        lock (_lock)
        {
            return _snapshot;
        }
    }

    /// <summary>Adds an ended session's engine figures to its loop's counters (once per session, not per packet).</summary>
    public static void ReportEnded(KcpControlBlock kcp, KcpTransportCounters counters)
    {
        counters.SessionsClosed++;
        var figures = kcp.Statistics;
        counters.SegmentsReceived += (long)figures.SegmentsIn;
        counters.SegmentsSent += (long)figures.SegmentsOut;
    }

    /// <summary>Takes a new snapshot of KCP's figures and the session's byte counts. Loop thread.</summary>
    public void Update(KcpControlBlock kcp, long fecRecovered, long bytesReceived, long bytesSent)
    {
        var s = kcp.Statistics;
        var snapshot = new KcpSessionStatistics
        {
            SmoothedRtt = s.Srtt,
            RttVariance = s.RttVar,
            Rto = (int)s.Rto,
            CongestionWindow = (int)s.Cwnd,
            InFlight = (int)s.InFlight,
            SendQueue = s.SendQueueLength,
            ReceiveQueue = s.ReceiveQueueLength,
            RemoteWindow = kcp.RemoteWindow,
            FastRetransmits = (long)s.FastRetransmits,
            EarlyRetransmits = (long)s.EarlyRetransmits,
            TimeoutRetransmits = (long)s.TimeoutRetransmits,
            LostSegments = (long)s.LostSegments,
            DuplicateSegments = (long)s.DuplicateSegments,
            SegmentsSent = (long)s.SegmentsOut,
            FecRecovered = fecRecovered,
            BytesReceived = bytesReceived,
            BytesSent = bytesSent,
        };
        lock (_lock)
        {
            _snapshot = snapshot;
        }
    }
}
