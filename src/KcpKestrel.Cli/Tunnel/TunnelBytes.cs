namespace KcpKestrel.Cli.Tunnel;

/// <summary>Bytes one tunnelled connection carried each way.</summary>
/// <param name="Up">From the accepted side to the dialed side (client → server for kcptun's client).</param>
/// <param name="Down">Back.</param>
internal readonly record struct TunnelBytes(long Up, long Down);
