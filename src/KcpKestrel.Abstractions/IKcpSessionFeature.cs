namespace KcpKestrel.Transport.Kcp;

/// <summary>
/// The KCP session under a connection, for connection middleware and handlers:
/// <c>context.Features.Get&lt;IKcpSessionFeature&gt;()</c>.
/// </summary>
public interface IKcpSessionFeature
{
    /// <summary>The KCP conversation id.</summary>
    uint Conv { get; }

    /// <summary>A consistent snapshot of the session's live figures, refreshed by its I/O loop each time it runs the session.</summary>
    KcpSessionStatistics GetStatistics();

    /// <summary>
    /// Caps the bytes per second this session takes from the app into KCP (0, the default: no cap).
    /// The I/O loop paces before KCP, so what KCP queues, sends and retransmits stays within the cap
    /// instead of a second queue fighting its window. Connection middleware sets it for bandwidth limits.
    /// </summary>
    long SendRateLimit { get; set; }

    /// <summary>Why the session ended, once it has; <see cref="KcpCloseReason.None"/> while it is open.</summary>
    KcpCloseReason CloseReason { get; }
}
