using System.Net;

namespace KcpKestrel.Transport.Kcp.Diagnostics;

/// <summary>
/// A bound KCP listener as metrics and the health check read it. Diagnostics observe listeners
/// through this, so the listener can use diagnostics without the two folders depending on each other.
/// </summary>
internal interface IKcpListenerState
{
    EndPoint LocalEndPoint { get; }

    KcpOptions Options { get; }

    bool IsAccepting { get; }

    /// <summary>Sessions open now, accepted or waiting in the accept queue.</summary>
    int SessionCount { get; }

    int AcceptQueueLength { get; }

    /// <summary>"native" (epoll + recvmmsg/sendmmsg) or "socket" (the portable path).</summary>
    string UdpIoPath { get; }

    /// <summary>The loops' counters, summed.</summary>
    KcpTransportCounters Counters { get; }

    KcpListenerDiagnostics Diagnostics { get; }
}
