namespace KcpKestrel.Transport.Kcp.Sessions;

/// <summary>Where a session is in its life; see <see cref="KcpSessionLifecycle"/> for the transitions.</summary>
internal enum KcpSessionState
{
    /// <summary>Moving bytes both ways.</summary>
    Open,

    /// <summary>The app completed its output and all of it is in KCP: waiting for the peer's acks.</summary>
    Draining,

    /// <summary>Ended; repeating the close signal an RTO apart, so the socket must stay.</summary>
    Lingering,

    /// <summary>Ended and silent: the owner may close the socket; the engine waits for Kestrel's dispose.</summary>
    Ended,

    /// <summary>The engine's pooled buffers are returned. Final.</summary>
    Released,
}
