namespace KcpKestrel.Transport.UserTcp.Io;

/// <summary>What a loop drives each turn (the packet layer and the TCP stack). Loop thread only.</summary>
internal interface IUserTcpLoopHandler
{
    /// <summary>Takes one IP packet; the span is valid only during the call.</summary>
    void OnPacket(ReadOnlySpan<byte> packet, uint now);

    /// <summary>Fires the timers due at or before <paramref name="now"/>.</summary>
    void RunTimers(uint now);
}
