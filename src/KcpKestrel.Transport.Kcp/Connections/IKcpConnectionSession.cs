using Microsoft.AspNetCore.Connections;

namespace KcpKestrel.Transport.Kcp.Connections;

/// <summary>
/// The session behind a <see cref="KcpConnection"/>, as the connection sees it. The connection sits
/// above the protocol stack and reaches it only through this: figures, the send cap, and requests
/// that the session's loop carries out on its own thread.
/// </summary>
internal interface IKcpConnectionSession
{
    /// <summary>The KCP conversation id.</summary>
    uint Conv { get; }

    /// <summary>Why the session ended, or <see cref="KcpCloseReason.None"/> while it runs.</summary>
    KcpCloseReason CloseReason { get; }

    /// <summary>Bytes per second moved from the app into KCP at most (0: no cap). Any thread.</summary>
    long SendRateLimit { get; set; }

    /// <summary>The latest figures, published by the loop. Any thread.</summary>
    KcpSessionStatistics GetStatistics();

    /// <summary>Asks the loop to end the session at once, telling the peer. Any thread.</summary>
    void RequestAbort(ConnectionAbortedException reason);

    /// <summary>Kestrel is done with the connection: drain, close gracefully, then release. Any thread.</summary>
    void RequestDispose();
}
