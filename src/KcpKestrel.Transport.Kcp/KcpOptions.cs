using KcpKestrel.Transport.Kcp.Io.Datagrams;
using KcpKestrel.Transport.Kcp.Sessions;

namespace KcpKestrel.Transport.Kcp;

/// <summary>
/// The settings of a KCP endpoint or client, with kcptun's names and defaults where kcptun has
/// them. Both ends must agree on <see cref="Crypt"/>, <see cref="Key"/>, <see cref="DataShards"/>
/// and <see cref="ParityShards"/>; the rest is local.
/// </summary>
public sealed class KcpOptions
{
    /// <summary>Preset for nodelay/interval/resend/nc (kcptun <c>--mode</c>). Default <see cref="KcpMode.Fast"/>.</summary>
    public KcpMode Mode { get; set; } = KcpMode.Fast;

    /// <summary>KCP nodelay (0 or 1), used when <see cref="Mode"/> is <see cref="KcpMode.Manual"/>.</summary>
    public int NoDelay { get; set; }

    /// <summary>KCP flush interval in ms (10 to 5000), used when <see cref="Mode"/> is <see cref="KcpMode.Manual"/>.</summary>
    public int Interval { get; set; } = 30;

    /// <summary>Fast retransmit after this many duplicate acks (0 turns it off), used in <see cref="KcpMode.Manual"/>.</summary>
    public int Resend { get; set; } = 2;

    /// <summary>Turns congestion control off, used in <see cref="KcpMode.Manual"/>.</summary>
    public bool NoCongestionControl { get; set; } = true;

    /// <summary>Send window in segments (kcptun <c>--sndwnd</c>).</summary>
    public int SendWindow { get; set; } = 1024;

    /// <summary>Receive window in segments (kcptun <c>--rcvwnd</c>).</summary>
    public int ReceiveWindow { get; set; } = 1024;

    /// <summary>Largest datagram on the wire, headers included (kcptun <c>--mtu</c>), 100 to 1500.</summary>
    public int Mtu { get; set; } = 1350;

    /// <summary>Reed-Solomon data shards per FEC group (kcptun <c>--datashard</c>); 0 turns FEC off.</summary>
    public int DataShards { get; set; } = 10;

    /// <summary>Reed-Solomon parity shards per FEC group (kcptun <c>--parityshard</c>); 0 turns FEC off.</summary>
    public int ParityShards { get; set; } = 3;

    /// <summary>
    /// Packet cipher (kcptun <c>--crypt</c>): aes, aes-128, aes-192, salsa20, blowfish, twofish,
    /// cast5, 3des, tea, xtea, xor, sm4, aes-128-gcm, none (CRC only), null (no header at all: not
    /// even a checksum, so corrupted datagrams reach KCP; choose it only on a link you trust), and
    /// KcpKestrel's authenticated aes-256-gcm and chacha20-poly1305 (not understood by kcp-go).
    /// </summary>
    public string Crypt { get; set; } = "aes";

    /// <summary>Pre-shared secret (kcptun <c>--key</c>), stretched with PBKDF2 as kcptun does. Required unless <see cref="Crypt"/> is none or null.</summary>
    public string? Key { get; set; }

    /// <summary>UDP socket send and receive buffer size in bytes (kcptun <c>--sockbuf</c>).</summary>
    public int SocketBufferSize { get; set; } = 4 * 1024 * 1024;

    /// <summary>Stream mode (as kcptun): writes coalesce into full segments. Off: each write is one message.</summary>
    public bool StreamMode { get; set; } = true;

    /// <summary>Segments retransmitted this many times mark the link dead and end the session.</summary>
    public int DeadLink { get; set; } = 20;

    /// <summary>A session that receives nothing for this long is closed.</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Number of I/O loops (threads, each with its own SO_REUSEPORT socket) of a listener.</summary>
    public int IoLoopCount { get; set; } = Environment.ProcessorCount;

    /// <summary>Most sessions a listener keeps open; datagrams that would open more are dropped and counted.</summary>
    public int MaxSessions { get; set; } = 10_000;

    /// <summary>Sessions waiting for Kestrel to accept them; past it new sessions are dropped and counted.</summary>
    public int AcceptQueueDepth { get; set; } = 128;

    /// <summary>New sessions a listener opens per second at most (per I/O loop share); 0: no limit.</summary>
    public int NewSessionsPerSecond { get; set; } = 2_000;

    /// <summary>How long a closed session's address and conv are remembered, so late datagrams do not reopen it.</summary>
    public TimeSpan TombstoneLifetime { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Bytes buffered from the network for the app before KCP stops reading (its window then closes).</summary>
    public long MaxReadBufferSize { get; set; } = 1024 * 1024;

    /// <summary>Bytes the app may buffer for sending before its writes wait.</summary>
    public long MaxWriteBufferSize { get; set; } = 1024 * 1024;

    /// <summary>Use UDP GSO (UDP_SEGMENT) on Linux where the kernel has it. Internal: a switch for tests; KCPKESTREL_UDP_GSO=0 turns it off from outside.</summary>
    internal bool UdpGso { get; set; } = true;

    /// <summary>Use UDP GRO (UDP_GRO) on Linux where the kernel has it. Internal: a switch for tests; KCPKESTREL_UDP_GRO=0 turns it off from outside.</summary>
    internal bool UdpGro { get; set; } = true;

    /// <summary>Forces the native or the portable UDP I/O path (tests); null: the process-wide choice of <see cref="Io.Datagrams.UdpIo"/>.</summary>
    internal Io.Datagrams.UdpIoMode? IoMode { get; set; }

    /// <summary>Returns a copy, so per-endpoint changes leave the defaults alone.</summary>
    public KcpOptions Clone() => (KcpOptions)MemberwiseClone();

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad setting and the accepted values.</summary>
    public void Validate()
    {
        Check(Enum.IsDefined(Mode), nameof(Mode), Mode, "Normal, Fast, Fast2, Fast3 or Manual");
        Check(NoDelay is 0 or 1, nameof(NoDelay), NoDelay, "0 or 1");
        Check(Interval is >= 1 and <= 5000, nameof(Interval), Interval, "1 to 5000 ms");
        Check(Resend is >= 0 and <= 100, nameof(Resend), Resend, "0 to 100");
        Check(SendWindow is >= 1 and <= 65535, nameof(SendWindow), SendWindow, "1 to 65535 segments");
        Check(ReceiveWindow is >= 1 and <= 65535, nameof(ReceiveWindow), ReceiveWindow, "1 to 65535 segments");
        Check(Mtu is >= 100 and <= 1500, nameof(Mtu), Mtu, "100 to 1500 bytes");
        Check(DataShards >= 0 && ParityShards >= 0 && DataShards + ParityShards <= 256, nameof(DataShards), $"{DataShards}/{ParityShards}", "data + parity shards of at most 256, both 0 to turn FEC off");
        Check(!(DataShards > 0 ^ ParityShards > 0), nameof(ParityShards), $"{DataShards}/{ParityShards}", "both above 0 for FEC, or both 0 for none");
        Check(SocketBufferSize is >= 4096 and <= 1 << 30, nameof(SocketBufferSize), SocketBufferSize, "4 KiB to 1 GiB");
        Check(DeadLink is >= 1 and <= 1000, nameof(DeadLink), DeadLink, "1 to 1000 retransmissions");
        Check(IdleTimeout > TimeSpan.Zero, nameof(IdleTimeout), IdleTimeout, "a positive time");
        Check(IoLoopCount is >= 1 and <= 256, nameof(IoLoopCount), IoLoopCount, "1 to 256");
        Check(MaxSessions >= 1, nameof(MaxSessions), MaxSessions, "1 or more");
        Check(AcceptQueueDepth >= 1, nameof(AcceptQueueDepth), AcceptQueueDepth, "1 or more");
        Check(NewSessionsPerSecond >= 0, nameof(NewSessionsPerSecond), NewSessionsPerSecond, "0 (no limit) or more");
        Check(TombstoneLifetime >= TimeSpan.Zero, nameof(TombstoneLifetime), TombstoneLifetime, "zero or a positive time");
        Check(MaxReadBufferSize >= 4096, nameof(MaxReadBufferSize), MaxReadBufferSize, "4096 bytes or more");
        Check(MaxWriteBufferSize >= 4096, nameof(MaxWriteBufferSize), MaxWriteBufferSize, "4096 bytes or more");
        Check(Sessions.KcpCrypt.IsKnown(Crypt), nameof(Crypt), Crypt, string.Join(", ", Sessions.KcpCrypt.Names));
        Check(Sessions.KcpCrypt.IsKeyless(Crypt) || !string.IsNullOrEmpty(Key), nameof(Key), "(empty)", $"a pre-shared secret: crypt '{Crypt}' needs one");
    }

    /// <summary>The effective (nodelay, interval, resend, nc) after applying <see cref="Mode"/>.</summary>
    internal (int NoDelay, int Interval, int Resend, bool Nc) EffectiveNoDelay() => Mode switch
    {
        KcpMode.Normal => (0, 40, 2, true),
        KcpMode.Fast => (0, 30, 2, true),
        KcpMode.Fast2 => (1, 20, 2, true),
        KcpMode.Fast3 => (1, 10, 2, true),
        _ => (NoDelay, Interval, Resend, NoCongestionControl),
    };

    private static void Check(bool ok, string name, object value, string accepted)
    {
        if (!ok)
        {
            throw new ArgumentException($"KCP option {name} = {value} is not valid; accepted: {accepted}.", name);
        }
    }
}
