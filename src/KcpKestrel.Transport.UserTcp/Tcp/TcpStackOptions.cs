namespace KcpKestrel.Transport.UserTcp.Tcp;

/// <summary>What a <see cref="TcpStack"/> is configured with (filled by the transport from its public options).</summary>
internal sealed class TcpStackOptions
{
    /// <summary>What every connection of the stack is configured with.</summary>
    public TcpConnectionOptions Connection { get; init; } = new();

    /// <summary>Half-open (SYN-RECEIVED) connections a listener holds at most; past it, cookies or drops.</summary>
    public int SynBacklog { get; init; } = 256;

    /// <summary>Connections (of every state, TIME_WAIT included) the stack holds at most.</summary>
    public int MaxConnections { get; init; } = 262_144;

    /// <summary>When SYN cookies are used.</summary>
    public SynCookieMode SynCookies { get; init; } = SynCookieMode.WhenBacklogFull;

    /// <summary>Challenge ACKs the stack sends per second at most (RFC 5961 §7; Linux's default is 1000).</summary>
    public int ChallengeAcksPerSecond { get; init; } = 1000;

    /// <summary>Resets for closed ports and stray segments the stack sends per second at most.</summary>
    public int ResetsPerSecond { get; init; } = 1000;

    /// <summary>The lowest ephemeral port for active opens.</summary>
    public ushort EphemeralPortMin { get; init; } = 32768;

    /// <summary>The highest ephemeral port for active opens.</summary>
    public ushort EphemeralPortMax { get; init; } = 60999;
}
