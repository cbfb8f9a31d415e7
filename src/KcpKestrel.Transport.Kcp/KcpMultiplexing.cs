namespace KcpKestrel.Transport.Kcp;

/// <summary>What a KCP session carries: one connection, or many smux streams (as kcptun).</summary>
public enum KcpMultiplexing
{
    /// <summary>The session is one connection (kcp-go's <c>UDPSession</c> as a stream).</summary>
    None,

    /// <summary>
    /// The session carries xtaci/smux streams, as kcptun's client and server speak it; each stream is a
    /// connection of its own, and the session lives on while streams come and go.
    /// </summary>
    Smux,
}
