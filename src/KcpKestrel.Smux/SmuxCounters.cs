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
    internal long _windowOverflows;
    internal long _consumedOverclaims;

    /// <summary>Frames smux also ignores: SYN for a live id, PSH/FIN/UPD for an unknown id, data after FIN.</summary>
    public long FramesIgnored => Volatile.Read(ref _framesIgnored);

    /// <summary>SYNs answered with FIN: MaxStreams or AcceptBacklog reached, or an id from this side's half.</summary>
    public long StreamsRefused => Volatile.Read(ref _streamsRefused);

    /// <summary>Streams reset for a protocol error of the peer confined to them: window overflow, a SYN reusing a live id, a v2 UPD over-claiming consumption.</summary>
    public long StreamsReset => Volatile.Read(ref _streamsReset);

    /// <summary>Sessions closed for a protocol error: malformed header, truncated frame at the end, SYN flood (0 or 1 per session).</summary>
    public long ProtocolErrors => Volatile.Read(ref _protocolErrors);

    /// <summary>Sessions closed because the peer went silent (0 or 1 per session).</summary>
    public long KeepAliveTimeouts => Volatile.Read(ref _keepAliveTimeouts);

    /// <summary>Streams this side opened.</summary>
    public long StreamsOpened => Volatile.Read(ref _streamsOpened);

    /// <summary>Streams the peer opened that were admitted.</summary>
    public long StreamsAccepted => Volatile.Read(ref _streamsAccepted);

    /// <summary>v2 streams reset because the peer sent more than the window we granted (also counted in <see cref="StreamsReset"/>).</summary>
    public long WindowOverflows => Volatile.Read(ref _windowOverflows);

    /// <summary>v2 streams reset because a UPD claimed more consumed than was sent (also counted in <see cref="StreamsReset"/>).</summary>
    public long ConsumedOverclaims => Volatile.Read(ref _consumedOverclaims);
}
