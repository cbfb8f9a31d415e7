namespace KcpKestrel.Transport.Kcp;

/// <summary>
/// The smux stream a connection is, when the KCP endpoint multiplexes (kcptun's layout: many streams on one
/// KCP session). <c>context.Features.Get&lt;IKcpStreamFeature&gt;()</c> is null on a connection that is a whole
/// session. The session's own figures stay in <see cref="IKcpSessionFeature"/>, shared by all its streams.
/// </summary>
public interface IKcpStreamFeature
{
    /// <summary>
    /// The smux stream id, unique within the session while the stream lives (odd when the client side opened it).
    /// With <see cref="IKcpSessionFeature.Conv"/> it names the stream in both ends' logs.
    /// </summary>
    uint StreamId { get; }

    /// <summary>
    /// Streams open on the same session now, this one included: what a middleware needs to limit or share out
    /// one peer's work, since one KCP session (one peer) can carry thousands of connections.
    /// </summary>
    int SessionStreamCount { get; }
}
