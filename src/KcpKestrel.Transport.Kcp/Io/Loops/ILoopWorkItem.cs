namespace KcpKestrel.Transport.Kcp.Io.Loops;

/// <summary>Work handed to an I/O loop from another thread (an app write, an abort, a new client session).</summary>
internal interface ILoopWorkItem
{
    /// <summary>Runs on the loop's thread.</summary>
    void Execute(KcpIoLoop loop, uint now);
}
