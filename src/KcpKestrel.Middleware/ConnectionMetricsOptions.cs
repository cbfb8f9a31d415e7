namespace KcpKestrel.Middleware;

/// <summary>Options of <c>UseConnectionMetrics</c>.</summary>
public sealed class ConnectionMetricsOptions
{
    /// <summary>Record KCP session figures (smoothed RTT, retransmissions, FEC recoveries) at close (default true).</summary>
    public bool RecordKcpSessionStatistics { get; set; } = true;

    /// <summary>The clock durations are measured on; null = the host's <see cref="System.TimeProvider"/> service, else the system clock.</summary>
    public TimeProvider? TimeProvider { get; set; }
}
