namespace KcpKestrel.Cli.Bench;

/// <summary>How a session of the sessions workload was found ended before the run's duration.</summary>
internal enum SessionEnding
{
    /// <summary>End-of-stream: the server's close signal (a drain, a stop), or a TCP FIN.</summary>
    Eof,

    /// <summary>A reset or abort, or KCP's own verdict: the dead link or the idle timeout.</summary>
    Error,

    /// <summary>An echo did not come back within the round-trip timeout (a server that vanished: nothing answers).</summary>
    Timeout,
}
