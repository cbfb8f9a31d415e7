using System.Diagnostics.CodeAnalysis;
using KcpKestrel.Core.Arq;
using KcpKestrel.Transport.Kcp.Io.Datagrams;
using KcpKestrel.Transport.Kcp.Sessions;

namespace KcpKestrel.Transport.Kcp;

/// <summary>
/// The settings of a KCP endpoint or client, with kcptun's names and defaults where kcptun has
/// them. Both ends must agree on <see cref="Crypt"/>, <see cref="Key"/>, <see cref="DataShards"/>
/// and <see cref="ParityShards"/>; the rest is local. Each setting's range, flag and meaning are in
/// <see cref="KcpSettings"/>: a new setting is a property here plus an entry there.
/// </summary>
public sealed class KcpOptions
{
    /// <summary>Preset for nodelay/interval/resend/nc (kcptun <c>--mode</c>). Default <see cref="KcpMode.Fast"/>.</summary>
    public KcpMode Mode { get; set; } = KcpMode.Fast;

    /// <summary>KCP nodelay (0 or 1), used when <see cref="Mode"/> is <see cref="KcpMode.Manual"/>.</summary>
    public int NoDelay { get; set; }

    /// <summary>KCP flush interval in ms (1 to 5000), used when <see cref="Mode"/> is <see cref="KcpMode.Manual"/>.</summary>
    public int Interval { get; set; } = 30;

    /// <summary>Fast retransmit after this many duplicate acks (0 turns it off), used in <see cref="KcpMode.Manual"/>.</summary>
    public int Resend { get; set; } = 2;

    /// <summary>Turns congestion control off, used in <see cref="KcpMode.Manual"/>.</summary>
    public bool NoCongestionControl { get; set; } = true;

    /// <summary>
    /// How a session decides how much to send and when. <see cref="KcpCongestionControl.Kcp"/> is kcp-go's (a window,
    /// sent at once each flush; <see cref="NoCongestionControl"/> applies); <see cref="KcpCongestionControl.Bbr"/>
    /// estimates the bottleneck rate and minimum RTT from acknowledgements, paces sends at that rate and bounds the data
    /// in flight by their product (<see cref="NoCongestionControl"/> does not apply; the peer's window still does). The
    /// wire format is the same either way, so kcp-go peers interoperate with both. See docs/congestion-control.md.
    /// </summary>
    public KcpCongestionControl CongestionControl { get; set; } = KcpCongestionControl.Kcp;

    /// <summary>
    /// Protects sparse traffic (a ping-pong, requests and replies: at most a few segments in flight and nothing queued
    /// behind them), which no FEC group covers and whose lost segment has no later acks to trigger a fast retransmit:
    /// an unacknowledged segment is sent once more after srtt + 2 × rttvar (at least 2 ms) instead of waiting for its
    /// rto (at least 30 or 100 ms). The probe is an ordinary segment repeated, so the wire format is kcp-go's and each
    /// end protects what it sends, toward kcp-go peers too. Costs a duplicate datagram when an ack is late or lost.
    /// Not part of kcp-go. On by default: at 5% loss it cut a ping-pong's p99 to 0.3-0.4x kcp-go's
    /// (benchmarks/results/tail.md); turn it off for datagrams exactly as kcp-go would send them.
    /// </summary>
    public bool TailLossProbe { get; set; } = true;

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

    /// <summary>
    /// UDP socket send and receive buffer size in bytes (kcptun <c>--sockbuf</c>). Linux caps it at
    /// net.core.rmem_max/wmem_max; a process with CAP_NET_ADMIN gets the full size (SO_RCVBUFFORCE), others
    /// get the cap and a warning in the log. The size granted is in the <c>kcp.io.socket.receive_buffer</c> metric.
    /// </summary>
    public int SocketBufferSize { get; set; } = 4 * 1024 * 1024;

    /// <summary>Stream mode (as kcptun): writes coalesce into full segments. Off: each write is one message.</summary>
    public bool StreamMode { get; set; } = true;

    /// <summary>Segments retransmitted this many times mark the link dead and end the session.</summary>
    public int DeadLink { get; set; } = 20;

    /// <summary>A session that receives nothing for this long is closed.</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Bytes a listener sends to a peer whose address is not proven, as a multiple of the bytes received from
    /// it (QUIC's anti-amplification limit), retransmissions and parity included. A peer proves its address by
    /// acknowledging a segment with the exact timestamp we sent it with.
    /// </summary>
    public int AmplificationLimit { get; set; } = 3;

    /// <summary>
    /// A listener's session whose peer has not proven its address is closed, silently, after this long without a
    /// datagram. Longer than kcptun's 10 s keepalive, so a kcp-go client that has not yet been sent anything to
    /// acknowledge is not cut off while it idles.
    /// </summary>
    public TimeSpan UnprovenIdleTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// In our own AEAD modes (aes-256-gcm, chacha20-poly1305; ignored in every other mode) a listener opens a
    /// session only for a datagram that echoes an address token it handed out: a source that has not proven
    /// its address gets one small RETRY datagram, no larger than what it sent, and nothing else (see
    /// docs/address-validation.md). Our client answers it within its dial. Both ends must agree.
    /// </summary>
    public bool AddressValidation { get; set; } = true;

    /// <summary>
    /// In our own AEAD modes with <see cref="AddressValidation"/> (ignored otherwise), a listener moves a session to
    /// a new peer address (NAT rebinding) once a path check proves the peer receives there, sending that address at
    /// most <see cref="AmplificationLimit"/> times what it received from it until then (see docs/address-validation.md).
    /// </summary>
    public bool Migration { get; set; } = true;

    /// <summary>How long an address token is accepted after the listener minted it; also its secret's rotation period.</summary>
    public TimeSpan AddressTokenLifetime { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Number of I/O loops (threads, each with its own SO_REUSEPORT socket) of a listener.</summary>
    public int IoLoopCount { get; set; } = Environment.ProcessorCount;

    /// <summary>
    /// Runs the app's reads and writes of a session inline on its I/O loop instead of hopping to the thread pool, as
    /// Kestrel's <c>UnsafePreferInlineScheduling</c> does: a ping-pong then skips two thread hops, but app code that
    /// blocks stalls every session of that loop. Only for apps that never block.
    /// </summary>
    public bool UnsafePreferInlineScheduling { get; set; }

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

    /// <summary>
    /// Bytes one session may hold for its peer: KCP's receive buffer and queue, FEC shards kept for recovery,
    /// and data in the app's pipe not yet read. Data that would pass it is dropped before it is buffered and
    /// not acknowledged (the peer resends it), and the advertised window never offers more. The default is
    /// above what a peer keeping to the default windows can make a session hold (see docs/memory-budget.md).
    /// </summary>
    public long SessionReceiveBudget { get; set; } = 6 * 1024 * 1024;

    /// <summary>
    /// Bytes all of a listener's sessions may hold together (as <see cref="SessionReceiveBudget"/> counts them).
    /// When it is reached, data is dropped as for a session, and the sessions holding the most are closed
    /// (<see cref="KcpCloseReason.MemoryPressure"/>).
    /// </summary>
    public long ListenerReceiveBudget { get; set; } = 1024L * 1024 * 1024;

    /// <summary>
    /// Bytes of Reed-Solomon decode matrices a listener caches, over all its sessions (split evenly over its
    /// I/O loops; each loop shares one codec per FEC shape between its sessions).
    /// </summary>
    public long FecDecodeCacheBudget { get; set; } = 16 * 1024 * 1024;

    /// <summary>
    /// What each session carries (kcptun: always smux). With <see cref="KcpMultiplexing.Smux"/> a listener makes every
    /// smux stream of every session a Kestrel connection, and a client opens streams on shared sessions.
    /// </summary>
    public KcpMultiplexing Multiplexing { get; set; } = KcpMultiplexing.None;

    /// <summary>
    /// Compression of the session's bytes, below smux. kcptun compresses with snappy unless <c>--nocomp</c>;
    /// this default is none, so plain kcp-go peers match. Both ends must agree.
    /// </summary>
    public KcpCompression Compression { get; set; } = KcpCompression.None;

    /// <summary>smux protocol version (kcptun <c>--smuxver</c>), 1 or 2; 2 adds per-stream windows. Both ends must agree.</summary>
    public int SmuxVersion { get; set; } = 1;

    /// <summary>Bytes a smux session buffers for all its streams (kcptun <c>--smuxbuf</c>).</summary>
    public int SmuxBuffer { get; set; } = 4194304;

    /// <summary>Bytes one smux stream may have in flight, its v2 window (kcptun <c>--streambuf</c>; v1 ignores it).</summary>
    public int StreamBuffer { get; set; } = 2097152;

    /// <summary>Interval of smux keepalive NOPs (kcptun <c>--keepalive</c>); a session that hears nothing for three times it is closed.</summary>
    public TimeSpan SmuxKeepAlive { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Most smux streams one session keeps open; a SYN past it is refused and counted. kcptun sets no limit, but each
    /// stream a peer opens holds buffers and a Kestrel connection, so one session must not be able to open 65,536 of
    /// them; a tunnel carrying more concurrent TCP connections per session raises it (or spreads them with more sessions).
    /// </summary>
    public int SmuxMaxStreams { get; set; } = 4096;

    /// <summary>Streams the peer opened that the app has not yet accepted, per session; a SYN past it is refused and counted.</summary>
    public int SmuxAcceptBacklog { get; set; } = 1024;

    /// <summary>
    /// QPP (Quantum Permutation Pad) encryption of every smux stream's bytes, as current kcptun's <c>--QPP</c>: pads
    /// and random streams come from the raw UTF-8 bytes of <see cref="Key"/> (not the PBKDF2 packet key). Needs
    /// <see cref="KcpMultiplexing.Smux"/>; both ends must agree (see docs/kcptun-qpp.md for the kcptun versions it matches).
    /// </summary>
    public bool Qpp { get; set; }

    /// <summary>Number of QPP pads (kcptun <c>--QPPCount</c>), 1 to 65535; an odd count of at least 7 is advised. Both ends must agree.</summary>
    public int QppCount { get; set; } = 61;

    /// <summary>Test switches that force a UDP I/O path; not a setting (see <see cref="UdpIoOverrides"/>).</summary>
    internal UdpIoOverrides IoOverrides { get; set; } = UdpIoOverrides.None;

    /// <summary>Returns a copy, so per-endpoint changes leave the defaults alone.</summary>
    public KcpOptions Clone() => (KcpOptions)MemberwiseClone();

    /// <summary>
    /// Copies every setting to <paramref name="target"/>, for APIs that hand out the instance to fill
    /// (<c>ListenKcp(address, port, o =&gt; options.CopyTo(o))</c>).
    /// </summary>
    /// <param name="target">The options to overwrite.</param>
    public void CopyTo(KcpOptions target)
    {
        ArgumentNullException.ThrowIfNull(target);
        foreach (var setting in KcpSettings.All)
        {
            setting.Copy(this, target);
        }

        target.IoOverrides = IoOverrides;
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad setting and the accepted values.</summary>
    public void Validate()
    {
        if (!TryValidate(out var error))
        {
            throw new ArgumentException(error.Message, error.Setting);
        }
    }

    /// <summary>Finds the first bad setting, if any.</summary>
    /// <param name="error">The setting, its value and what it accepts; null when every setting is valid.</param>
    /// <returns>True when every setting is valid.</returns>
    public bool TryValidate([NotNullWhen(false)] out KcpOptionsError? error)
    {
        foreach (var setting in KcpSettings.All)
        {
            var value = setting.Get(this);
            if (!setting.IsValid(value))
            {
                error = new KcpOptionsError(setting.Name, KcpSetting.Format(value), setting.Accepted);
                return false;
            }
        }

        // Rules between settings. Reed-Solomon over GF(2^8) has at most 256 shards per group.
        if (DataShards + ParityShards > 256)
        {
            error = new KcpOptionsError(nameof(DataShards), $"{DataShards}/{ParityShards}", "data + parity shards of at most 256, both 0 to turn FEC off", nameof(ParityShards));
            return false;
        }

        if (DataShards > 0 ^ ParityShards > 0)
        {
            error = new KcpOptionsError(nameof(DataShards), $"{DataShards}/{ParityShards}", "both above 0 for FEC, or both 0 for none", nameof(ParityShards));
            return false;
        }

        if (!Sessions.KcpCrypt.IsKeyless(Crypt) && string.IsNullOrEmpty(Key))
        {
            error = new KcpOptionsError(nameof(Key), "(empty)", $"a pre-shared secret: crypt '{Crypt}' needs one");
            return false;
        }

        if (Qpp && Multiplexing != KcpMultiplexing.Smux)
        {
            // kcptun wraps each smux stream; without streams there is nothing for QPP to wrap.
            error = new KcpOptionsError(nameof(Qpp), $"true/{Multiplexing}", "Multiplexing Smux when Qpp is on (QPP encrypts each smux stream, as kcptun does)", nameof(Multiplexing));
            return false;
        }

        error = null;
        return true;
    }

    /// <summary>The smux settings of a session, from the Smux* settings above (smux's own defaults for the rest).</summary>
    internal KcpKestrel.Smux.SmuxOptions ToSmuxOptions() => new()
    {
        Version = SmuxVersion,
        MaxReceiveBuffer = SmuxBuffer,
        MaxStreamBuffer = StreamBuffer,
        KeepAliveInterval = SmuxKeepAlive,
        KeepAliveTimeout = SmuxKeepAlive * 3,
        MaxStreams = SmuxMaxStreams,
        AcceptBacklog = SmuxAcceptBacklog,
    };

    /// <summary>The effective (nodelay, interval, resend, nc) after applying <see cref="Mode"/>.</summary>
    internal KcpNoDelayPreset EffectiveNoDelay() => Mode switch
    {
        KcpMode.Normal => KcpNoDelayPreset.Normal,
        KcpMode.Fast => KcpNoDelayPreset.Fast,
        KcpMode.Fast2 => KcpNoDelayPreset.Fast2,
        KcpMode.Fast3 => KcpNoDelayPreset.Fast3,
        _ => new KcpNoDelayPreset(NoDelay, Interval, Resend, NoCongestionControl),
    };
}
