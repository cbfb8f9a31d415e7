namespace KcpKestrel.Transport.Kcp.Io.Loops;

/// <summary>Something the loop flushes once at the end of a turn in which it was touched.</summary>
internal interface ILoopFlushable
{
    /// <summary>Runs on the loop thread at the end of the turn.</summary>
    void FlushDirty(uint now);
}
