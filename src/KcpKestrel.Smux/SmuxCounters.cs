namespace KcpKestrel.Smux;

/// <summary>What a session saw that was not plain traffic; written by the core (under the shell's lock), read anywhere.</summary>
public sealed class SmuxCounters
{
    internal long _framesIgnored;
    internal long _streamsRefused;
    internal long _streamsReset;
    internal long _protocolErrors;
    internal long _keepAliveTimeouts;
    internal long _streamsOpened;
    internal long _streamsAccepted;

    /// <summary>Frames smux also ignores: SYN for a live id, PSH/FIN/UPD for an unknown id, data after FIN.</summary>
    public long FramesIgnored => Volatile.Read(ref _framesIgnored);

    /// <summary>SYNs answered with FIN because MaxStreams or AcceptBacklog was reached.</summary>
    public long StreamsRefused => Volatile.Read(ref _streamsRefused);

    /// <summary>Streams closed because the peer overflowed their window.</summary>
    public long StreamsReset => Volatile.Read(ref _streamsReset);

    /// <summary>Sessions closed for a malformed frame (0 or 1 per session).</summary>
    public long ProtocolErrors => Volatile.Read(ref _protocolErrors);

    /// <summary>Sessions closed because the peer went silent (0 or 1 per session).</summary>
    public long KeepAliveTimeouts => Volatile.Read(ref _keepAliveTimeouts);

    /// <summary>Streams this side opened.</summary>
    public long StreamsOpened => Volatile.Read(ref _streamsOpened);

    /// <summary>Streams the peer opened that were admitted.</summary>
    public long StreamsAccepted => Volatile.Read(ref _streamsAccepted);
}
