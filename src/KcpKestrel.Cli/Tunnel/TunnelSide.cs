namespace KcpKestrel.Cli.Tunnel;

/// <summary>Which of kcptun's two binaries a tunnel command stands in for.</summary>
internal enum TunnelSide
{
    /// <summary>kcptun's server: KCP in, TCP out to the target.</summary>
    Server,

    /// <summary>kcptun's client: TCP in, KCP out to the server.</summary>
    Client,
}
