namespace KcpKestrel.Smux;

/// <summary>
/// Settings of an smux session, named and defaulted as xtaci/smux's <c>Config</c> (smux 1.5.16 <c>DefaultConfig</c>).
/// kcptun overrides some of them: <c>--smuxbuf 4194304</c> (<see cref="MaxReceiveBuffer"/>),
/// <c>--streambuf 2097152</c> (<see cref="MaxStreamBuffer"/>) and <c>--keepalive 10</c> (<see cref="KeepAliveInterval"/>, seconds).
/// Both ends must use the same <see cref="Version"/>; the other settings are local.
/// </summary>
public sealed class SmuxOptions
{
    /// <summary>kcptun's default <c>--smuxbuf</c>.</summary>
    public const int KcptunMaxReceiveBuffer = 4194304;

    /// <summary>kcptun's default <c>--streambuf</c>.</summary>
    public const int KcptunMaxStreamBuffer = 2097152;

    /// <summary>Protocol version: 1 (session-wide receive buffer) or 2 (adds per-stream windows, cmd UPD). Default 1.</summary>
    public int Version { get; set; } = 1;

    /// <summary>When true, no NOP is sent and the peer's silence never closes the session.</summary>
    public bool KeepAliveDisabled { get; set; }

    /// <summary>How often a NOP is sent. Default 10 s.</summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The session closes when nothing arrived for this long. Default 30 s; must be at least <see cref="KeepAliveInterval"/>.</summary>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Largest PSH payload sent, 1..65535. Default 32768.</summary>
    public int MaxFrameSize { get; set; } = 32768;

    /// <summary>Bytes received but not yet read, over all streams, past which reading the transport pauses. Default 4 MiB.</summary>
    public int MaxReceiveBuffer { get; set; } = 4194304;

    /// <summary>v2: the window advertised for each stream (unread bytes the peer may send). Default 64 KiB.</summary>
    public int MaxStreamBuffer { get; set; } = 65536;

    /// <summary>Open streams a session keeps (both directions); a SYN past it is refused with a FIN. Not in smux (unbounded there). Default 65536.</summary>
    public int MaxStreams { get; set; } = 65536;

    /// <summary>Streams opened by the peer but not yet accepted; a SYN past it is refused with a FIN. smux's <c>defaultAcceptBacklog</c>, 1024.</summary>
    public int AcceptBacklog { get; set; } = 1024;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first setting out of range (smux's <c>VerifyConfig</c> rules plus ours).</summary>
    public void Validate()
    {
        if (Version is not (1 or 2))
        {
            throw new ArgumentOutOfRangeException(nameof(Version), Version, "smux version must be 1 or 2.");
        }

        if (!KeepAliveDisabled)
        {
            if (KeepAliveInterval <= TimeSpan.Zero)
            {
                throw new ArgumentOutOfRangeException(nameof(KeepAliveInterval), KeepAliveInterval, "Must be positive.");
            }

            if (KeepAliveTimeout < KeepAliveInterval)
            {
                throw new ArgumentOutOfRangeException(nameof(KeepAliveTimeout), KeepAliveTimeout, "Must be at least KeepAliveInterval.");
            }
        }

        if (MaxFrameSize is <= 0 or > ushort.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxFrameSize), MaxFrameSize, "Must be in 1..65535.");
        }

        if (MaxReceiveBuffer <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxReceiveBuffer), MaxReceiveBuffer, "Must be positive.");
        }

        if (MaxStreamBuffer <= 0 || MaxStreamBuffer > MaxReceiveBuffer)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxStreamBuffer), MaxStreamBuffer, "Must be positive and at most MaxReceiveBuffer.");
        }

        if (MaxStreams <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxStreams), MaxStreams, "Must be positive.");
        }

        if (AcceptBacklog <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(AcceptBacklog), AcceptBacklog, "Must be positive.");
        }
    }
}
