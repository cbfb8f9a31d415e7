namespace KcpKestrel.Cli.Serve;

/// <summary>serve's smux figures for its stop report: smux sessions run, streams handed to the app, protocol errors.</summary>
internal readonly record struct SmuxTotals(long Sessions, long StreamsAccepted, long ProtocolErrors);
