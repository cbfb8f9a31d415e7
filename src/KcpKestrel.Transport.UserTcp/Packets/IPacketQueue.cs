namespace KcpKestrel.Transport.UserTcp.Packets;

/// <summary>
/// One queue of a packet source, used by one loop thread (only <see cref="Wake"/> may be called from other threads).
/// </summary>
internal interface IPacketQueue : IDisposable
{
    /// <summary>
    /// Waits up to <paramref name="timeoutMs"/> (-1: no limit, 0: just looks) until a packet is readable or
    /// <see cref="Wake"/> is called; true when a packet may be readable.
    /// </summary>
    bool Wait(int timeoutMs);

    /// <summary>Ends a <see cref="Wait"/> early (app writes, shutdown); any thread.</summary>
    void Wake();

    /// <summary>Reads one IP packet into <paramref name="buffer"/>; its length, or 0 when none is waiting.</summary>
    int TryReceive(Span<byte> buffer);

    /// <summary>Writes one whole IP packet; a full queue drops it (counted by the source), as a link would.</summary>
    void Send(ReadOnlySpan<byte> packet);
}
