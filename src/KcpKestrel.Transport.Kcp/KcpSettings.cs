using KcpKestrel.Transport.Kcp.Sessions;

namespace KcpKestrel.Transport.Kcp;

/// <summary>
/// The one description of every <see cref="KcpOptions"/> setting: name, flag, range, default (from the
/// property initializer) and meaning. Adding a setting is a property on <see cref="KcpOptions"/> and an
/// entry here; validation, configuration keys, <see cref="KcpOptions.CopyTo"/> and the CLI follow.
/// </summary>
internal static class KcpSettings
{
    private const long MaxDuration = long.MaxValue;

    /// <summary>Every setting, in <see cref="KcpOptions"/>' order (which is also the order errors are found in).</summary>
    public static IReadOnlyList<KcpSetting> All { get; } =
    [
        new()
        {
            Name = nameof(KcpOptions.Mode), Flag = "--mode", IsKcptunFlag = true, Kind = KcpSettingKind.Enum,
            Names = Enum.GetNames<KcpMode>(), FromName = name => Enum.Parse<KcpMode>(name, ignoreCase: true),
            Accepted = string.Join(", ", Enum.GetNames<KcpMode>()),
            Meaning = "Preset of nodelay/interval/resend/nc; Manual uses those four as given",
            Get = o => o.Mode, Set = (o, v) => o.Mode = (KcpMode)v!,
        },
        new()
        {
            Name = nameof(KcpOptions.NoDelay), Flag = "--nodelay", IsKcptunFlag = true, Kind = KcpSettingKind.Int32, Min = 0, Max = 1,
            Accepted = "0 or 1", Meaning = "KCP nodelay: 1 uses a smaller minimum rto and no rto doubling", ManualModeOnly = true,
            Get = o => o.NoDelay, Set = (o, v) => o.NoDelay = (int)v!,
        },
        new()
        {
            Name = nameof(KcpOptions.Interval), Flag = "--interval", IsKcptunFlag = true, Kind = KcpSettingKind.Int32, Min = 1, Max = 5000,
            Accepted = "1 to 5000 ms", Meaning = "KCP flush interval in ms", ManualModeOnly = true,
            Get = o => o.Interval, Set = (o, v) => o.Interval = (int)v!,
        },
        new()
        {
            Name = nameof(KcpOptions.Resend), Flag = "--resend", IsKcptunFlag = true, Kind = KcpSettingKind.Int32, Min = 0, Max = 100,
            Accepted = "0 to 100", Meaning = "Fast retransmit after this many duplicate acks; 0 turns it off", ManualModeOnly = true,
            Get = o => o.Resend, Set = (o, v) => o.Resend = (int)v!,
        },
        new()
        {
            Name = nameof(KcpOptions.NoCongestionControl), Flag = "--nc", IsKcptunFlag = true, Kind = KcpSettingKind.Boolean,
            Accepted = "true or false (1 or 0)", Meaning = "Turns congestion control (cwnd) off", ManualModeOnly = true,
            Get = o => o.NoCongestionControl, Set = (o, v) => o.NoCongestionControl = (bool)v!,
        },
        new()
        {
            Name = nameof(KcpOptions.CongestionControl), Flag = "--cc", Kind = KcpSettingKind.Enum,
            Names = Enum.GetNames<KcpCongestionControl>(), FromName = name => Enum.Parse<KcpCongestionControl>(name, ignoreCase: true),
            Accepted = string.Join(", ", Enum.GetNames<KcpCongestionControl>()),
            Meaning = "Kcp: kcp-go's window, sent at once each flush (nc applies); Bbr: paced at the estimated bottleneck rate, in flight bounded by rate x min RTT (same wire format)",
            Get = o => o.CongestionControl, Set = (o, v) => o.CongestionControl = (KcpCongestionControl)v!,
        },
        new()
        {
            Name = nameof(KcpOptions.TailLossProbe), Flag = "--tail-loss-probe", Kind = KcpSettingKind.Boolean,
            Accepted = "true or false (1 or 0)",
            Meaning = "Sparse traffic (a few segments in flight, nothing queued): an unacknowledged segment is sent once more after srtt + 2 x rttvar (at least 2 ms) rather than waiting for its rto; same wire format, works toward kcp-go peers",
            Get = o => o.TailLossProbe, Set = (o, v) => o.TailLossProbe = (bool)v!,
        },
        new()
        {
            Name = nameof(KcpOptions.SendWindow), Flag = "--sndwnd", IsKcptunFlag = true, Kind = KcpSettingKind.Int32, Min = 1, Max = 65535,
            Accepted = "1 to 65535 segments", Meaning = "Send window in segments",
            Get = o => o.SendWindow, Set = (o, v) => o.SendWindow = (int)v!,
        },
        new()
        {
            Name = nameof(KcpOptions.ReceiveWindow), Flag = "--rcvwnd", IsKcptunFlag = true, Kind = KcpSettingKind.Int32, Min = 1, Max = 65535,
            Accepted = "1 to 65535 segments", Meaning = "Receive window in segments",
            Get = o => o.ReceiveWindow, Set = (o, v) => o.ReceiveWindow = (int)v!,
        },
        new()
        {
            Name = nameof(KcpOptions.Mtu), Flag = "--mtu", IsKcptunFlag = true, Kind = KcpSettingKind.Int32, Min = 100, Max = 1500,
            Accepted = "100 to 1500 bytes", Meaning = "Largest datagram on the wire, headers included",
            Get = o => o.Mtu, Set = (o, v) => o.Mtu = (int)v!,
        },
        new()
        {
            Name = nameof(KcpOptions.DataShards), Flag = "--datashard", IsKcptunFlag = true, Kind = KcpSettingKind.Int32, Min = 0, Max = 255,
            Accepted = "0 to 255", Meaning = "Reed-Solomon data shards per FEC group, 0 (with parity 0) turns FEC off; both ends must agree",
            Get = o => o.DataShards, Set = (o, v) => o.DataShards = (int)v!,
        },
        new()
        {
            Name = nameof(KcpOptions.ParityShards), Flag = "--parityshard", IsKcptunFlag = true, Kind = KcpSettingKind.Int32, Min = 0, Max = 255,
            Accepted = "0 to 255", Meaning = "Reed-Solomon parity shards per FEC group, 0 (with data 0) turns FEC off; both ends must agree",
            Get = o => o.ParityShards, Set = (o, v) => o.ParityShards = (int)v!,
        },
        new()
        {
            Name = nameof(KcpOptions.Crypt), Flag = "--crypt", IsKcptunFlag = true, Kind = KcpSettingKind.String,
            Names = KcpCrypt.Names, Accepted = string.Join(", ", KcpCrypt.Names),
            Meaning = "Packet cipher; both ends must agree (none: CRC only; null: no header, no checksum)",
            Get = o => o.Crypt, Set = (o, v) => o.Crypt = (string)v!,
        },
        new()
        {
            // Any text; that a cipher needs one is a rule between Crypt and Key, checked in TryValidate.
            Name = nameof(KcpOptions.Key), Flag = "--key", IsKcptunFlag = true, Kind = KcpSettingKind.String,
            Accepted = "any text; required unless crypt is none or null", Meaning = "Pre-shared secret, stretched with PBKDF2 as kcptun does",
            Get = o => o.Key, Set = (o, v) => o.Key = (string?)v,
        },
        new()
        {
            Name = nameof(KcpOptions.SocketBufferSize), Flag = "--sockbuf", IsKcptunFlag = true, Kind = KcpSettingKind.Int32, Min = 4096, Max = 1 << 30,
            Accepted = "4096 (4 KiB) to 1073741824 (1 GiB) bytes", Meaning = "UDP socket send and receive buffer size in bytes; Linux caps it at net.core.rmem_max/wmem_max unless the process has CAP_NET_ADMIN (then SO_RCVBUFFORCE/SO_SNDBUFFORCE), and the size granted is in the kcp.io.socket.receive_buffer metric",
            Get = o => o.SocketBufferSize, Set = (o, v) => o.SocketBufferSize = (int)v!,
        },
        new()
        {
            // kcptun has no flag for it (its smux always streams).
            Name = nameof(KcpOptions.StreamMode), Flag = "--stream-mode", Kind = KcpSettingKind.Boolean,
            Accepted = "true or false (1 or 0)", Meaning = "Writes coalesce into full segments; off: each write is one message",
            Get = o => o.StreamMode, Set = (o, v) => o.StreamMode = (bool)v!,
        },
        new()
        {
            Name = nameof(KcpOptions.DeadLink), Flag = "--dead-link", Kind = KcpSettingKind.Int32, Min = 1, Max = 1000,
            Accepted = "1 to 1000 retransmissions", Meaning = "A segment retransmitted this many times marks the link dead and ends the session",
            Get = o => o.DeadLink, Set = (o, v) => o.DeadLink = (int)v!,
        },
        new()
        {
            Name = nameof(KcpOptions.IdleTimeout), Flag = "--idle-timeout", Kind = KcpSettingKind.Duration, Min = 1, Max = MaxDuration,
            Accepted = "a positive time", Meaning = "A session that receives nothing for this long is closed",
            Get = o => o.IdleTimeout, Set = (o, v) => o.IdleTimeout = (TimeSpan)v!,
        },
        new()
        {
            Name = nameof(KcpOptions.AmplificationLimit), Flag = "--amplification-limit", Kind = KcpSettingKind.Int32, Min = 1, Max = 100, ListenerOnly = true,
            Accepted = "1 to 100", Meaning = "Bytes sent to a peer that has not proven its address, as a multiple of the bytes received from it",
            Get = o => o.AmplificationLimit, Set = (o, v) => o.AmplificationLimit = (int)v!,
        },
        new()
        {
            Name = nameof(KcpOptions.UnprovenIdleTimeout), Flag = "--unproven-timeout", Kind = KcpSettingKind.Duration, Min = 1, Max = MaxDuration, ListenerOnly = true,
            Accepted = "a positive time", Meaning = "A session whose peer has not proven its address is closed, without a close signal, after this long without a datagram",
            Get = o => o.UnprovenIdleTimeout, Set = (o, v) => o.UnprovenIdleTimeout = (TimeSpan)v!,
        },
        new()
        {
            Name = nameof(KcpOptions.AddressValidation), Flag = "--address-validation", Kind = KcpSettingKind.Boolean,
            Accepted = "true or false (1 or 0)", Meaning = "In aes-256-gcm and chacha20-poly1305 only: a listener opens a session only for a datagram echoing an address token it handed out in a RETRY (both ends must agree)",
            Get = o => o.AddressValidation, Set = (o, v) => o.AddressValidation = (bool)v!,
        },
        new()
        {
            Name = nameof(KcpOptions.Migration), Flag = "--migration", Kind = KcpSettingKind.Boolean, ListenerOnly = true,
            Accepted = "true or false (1 or 0)", Meaning = "In aes-256-gcm and chacha20-poly1305 with AddressValidation: a session follows its peer to a new address (NAT rebinding) once a path check proves it, sending at most AmplificationLimit times what it received there until then",
            Get = o => o.Migration, Set = (o, v) => o.Migration = (bool)v!,
        },
        new()
        {
            Name = nameof(KcpOptions.AddressTokenLifetime), Flag = "--address-token-lifetime", Kind = KcpSettingKind.Duration, Min = TimeSpan.TicksPerMillisecond, Max = TimeSpan.TicksPerDay, ListenerOnly = true,
            Accepted = "a positive time up to a day", Meaning = "How long an address token is accepted after it was minted (its secret rotates as often)",
            Get = o => o.AddressTokenLifetime, Set = (o, v) => o.AddressTokenLifetime = (TimeSpan)v!,
        },
        new()
        {
            Name = nameof(KcpOptions.IoLoopCount), Flag = "--io-loops", Kind = KcpSettingKind.Int32, Min = 1, Max = 256, ListenerOnly = true,
            Accepted = "1 to 256", Meaning = "I/O loops (threads, each with its own SO_REUSEPORT socket) of a listener",
            DefaultDescription = "the number of processors",
            Get = o => o.IoLoopCount, Set = (o, v) => o.IoLoopCount = (int)v!,
        },
        new()
        {
            Name = nameof(KcpOptions.UnsafePreferInlineScheduling), Flag = "--inline", Kind = KcpSettingKind.Boolean,
            Accepted = "true or false (1 or 0)", Meaning = "Runs the app's reads and writes inline on the I/O loop (no thread-pool hops); only for apps that never block",
            Get = o => o.UnsafePreferInlineScheduling, Set = (o, v) => o.UnsafePreferInlineScheduling = (bool)v!,
        },
        new()
        {
            Name = nameof(KcpOptions.MaxSessions), Flag = "--max-sessions", Kind = KcpSettingKind.Int32, Min = 1, Max = int.MaxValue, ListenerOnly = true,
            Accepted = "1 or more", Meaning = "Most sessions a listener keeps open; datagrams that would open more are dropped",
            Get = o => o.MaxSessions, Set = (o, v) => o.MaxSessions = (int)v!,
        },
        new()
        {
            Name = nameof(KcpOptions.AcceptQueueDepth), Flag = "--accept-queue", Kind = KcpSettingKind.Int32, Min = 1, Max = int.MaxValue, ListenerOnly = true,
            Accepted = "1 or more", Meaning = "Sessions waiting for Kestrel to accept them; past it new sessions are dropped",
            Get = o => o.AcceptQueueDepth, Set = (o, v) => o.AcceptQueueDepth = (int)v!,
        },
        new()
        {
            Name = nameof(KcpOptions.NewSessionsPerSecond), Flag = "--new-sessions-per-second", Kind = KcpSettingKind.Int32, Min = 0, Max = int.MaxValue, ListenerOnly = true,
            Accepted = "0 (no limit) or more", Meaning = "New sessions a listener opens per second at most",
            Get = o => o.NewSessionsPerSecond, Set = (o, v) => o.NewSessionsPerSecond = (int)v!,
        },
        new()
        {
            Name = nameof(KcpOptions.TombstoneLifetime), Flag = "--tombstone-lifetime", Kind = KcpSettingKind.Duration, Min = 0, Max = MaxDuration, ListenerOnly = true,
            Accepted = "zero or a positive time", Meaning = "How long a closed session's address and conv are remembered, so late datagrams do not reopen it",
            Get = o => o.TombstoneLifetime, Set = (o, v) => o.TombstoneLifetime = (TimeSpan)v!,
        },
        new()
        {
            Name = nameof(KcpOptions.MaxReadBufferSize), Flag = "--read-buffer", Kind = KcpSettingKind.Int64, Min = 4096, Max = long.MaxValue,
            Accepted = "4096 bytes or more", Meaning = "Bytes buffered from the network for the app before KCP stops reading (its window then closes)",
            Get = o => o.MaxReadBufferSize, Set = (o, v) => o.MaxReadBufferSize = (long)v!,
        },
        new()
        {
            Name = nameof(KcpOptions.MaxWriteBufferSize), Flag = "--write-buffer", Kind = KcpSettingKind.Int64, Min = 4096, Max = long.MaxValue,
            Accepted = "4096 bytes or more", Meaning = "Bytes the app may buffer for sending before its writes wait",
            Get = o => o.MaxWriteBufferSize, Set = (o, v) => o.MaxWriteBufferSize = (long)v!,
        },
        new()
        {
            Name = nameof(KcpOptions.SessionReceiveBudget), Flag = "--session-receive-budget", Kind = KcpSettingKind.Int64, Min = 1024 * 1024, Max = long.MaxValue,
            Accepted = "1048576 bytes or more (a message of 255 fragments must fit)", Meaning = "Bytes one session may hold for its peer (receive buffers, FEC shards, data the app has not read); data past it is dropped unacknowledged and the window never offers more",
            Get = o => o.SessionReceiveBudget, Set = (o, v) => o.SessionReceiveBudget = (long)v!,
        },
        new()
        {
            Name = nameof(KcpOptions.ListenerReceiveBudget), Flag = "--listener-receive-budget", Kind = KcpSettingKind.Int64, Min = 1024 * 1024, Max = long.MaxValue, ListenerOnly = true,
            Accepted = "1048576 bytes or more", Meaning = "Bytes all of a listener's sessions may hold together; past it data is dropped and the sessions holding the most are closed",
            Get = o => o.ListenerReceiveBudget, Set = (o, v) => o.ListenerReceiveBudget = (long)v!,
        },
        new()
        {
            Name = nameof(KcpOptions.FecDecodeCacheBudget), Flag = "--fec-decode-cache", Kind = KcpSettingKind.Int64, Min = 0, Max = long.MaxValue, ListenerOnly = true,
            Accepted = "0 bytes or more", Meaning = "Bytes of Reed-Solomon decode matrices a listener caches over all its sessions (0: none cached)",
            Get = o => o.FecDecodeCacheBudget, Set = (o, v) => o.FecDecodeCacheBudget = (long)v!,
        },
        new()
        {
            Name = nameof(KcpOptions.Multiplexing), Flag = "--multiplexing", Kind = KcpSettingKind.Enum,
            Names = Enum.GetNames<KcpMultiplexing>(), FromName = name => Enum.Parse<KcpMultiplexing>(name, ignoreCase: true),
            Accepted = string.Join(", ", Enum.GetNames<KcpMultiplexing>()),
            Meaning = "What a session carries: one connection (None) or smux streams, each its own connection (Smux, as kcptun)",
            Get = o => o.Multiplexing, Set = (o, v) => o.Multiplexing = (KcpMultiplexing)v!,
        },
        new()
        {
            Name = nameof(KcpOptions.Compression), Flag = "--compression", Kind = KcpSettingKind.Enum,
            Names = Enum.GetNames<KcpCompression>(), FromName = name => Enum.Parse<KcpCompression>(name, ignoreCase: true),
            Accepted = string.Join(", ", Enum.GetNames<KcpCompression>()),
            Meaning = "Compression of the session's bytes below smux: Snappy as kcptun does by default, None as kcptun --nocomp (both ends must agree)",
            Get = o => o.Compression, Set = (o, v) => o.Compression = (KcpCompression)v!,
        },
        new()
        {
            Name = nameof(KcpOptions.SmuxVersion), Flag = "--smuxver", IsKcptunFlag = true, Kind = KcpSettingKind.Int32, Min = 1, Max = 2,
            Accepted = "1 or 2", Meaning = "smux protocol version; 2 adds per-stream windows (both ends must agree)",
            Get = o => o.SmuxVersion, Set = (o, v) => o.SmuxVersion = (int)v!,
        },
        new()
        {
            Name = nameof(KcpOptions.SmuxBuffer), Flag = "--smuxbuf", IsKcptunFlag = true, Kind = KcpSettingKind.Int32, Min = 65536, Max = int.MaxValue,
            Accepted = "65536 bytes or more", Meaning = "Bytes a smux session buffers for all its streams",
            Get = o => o.SmuxBuffer, Set = (o, v) => o.SmuxBuffer = (int)v!,
        },
        new()
        {
            Name = nameof(KcpOptions.StreamBuffer), Flag = "--streambuf", IsKcptunFlag = true, Kind = KcpSettingKind.Int32, Min = 65536, Max = int.MaxValue,
            Accepted = "65536 bytes or more", Meaning = "Bytes one smux v2 stream may have in flight (its window)",
            Get = o => o.StreamBuffer, Set = (o, v) => o.StreamBuffer = (int)v!,
        },
        new()
        {
            Name = nameof(KcpOptions.SmuxKeepAlive), Flag = "--keepalive", IsKcptunFlag = true, Kind = KcpSettingKind.Duration, Min = TimeSpan.TicksPerSecond, Max = TimeSpan.TicksPerDay,
            Accepted = "1 second to a day", Meaning = "Interval of smux keepalives; a session silent for three of them is closed",
            Get = o => o.SmuxKeepAlive, Set = (o, v) => o.SmuxKeepAlive = (TimeSpan)v!,
        },
        new()
        {
            Name = nameof(KcpOptions.SmuxMaxStreams), Flag = "--smux-max-streams", Kind = KcpSettingKind.Int32, Min = 1, Max = int.MaxValue,
            Accepted = "1 or more", Meaning = "Most smux streams one session keeps open; a SYN past it is refused",
            Get = o => o.SmuxMaxStreams, Set = (o, v) => o.SmuxMaxStreams = (int)v!,
        },
        new()
        {
            Name = nameof(KcpOptions.SmuxAcceptBacklog), Flag = "--smux-accept-backlog", Kind = KcpSettingKind.Int32, Min = 1, Max = int.MaxValue,
            Accepted = "1 or more", Meaning = "Streams opened by the peer and not yet accepted, per session; a SYN past it is refused",
            Get = o => o.SmuxAcceptBacklog, Set = (o, v) => o.SmuxAcceptBacklog = (int)v!,
        },
        new()
        {
            Name = nameof(KcpOptions.Qpp), Flag = "--QPP", IsKcptunFlag = true, Kind = KcpSettingKind.Boolean,
            Accepted = "true or false (1 or 0); only with Multiplexing Smux", Meaning = "QPP encryption of every smux stream, keyed by the raw Key, as current kcptun (both ends must agree)",
            Get = o => o.Qpp, Set = (o, v) => o.Qpp = (bool)v!,
        },
        new()
        {
            // kcptun refuses 0 or less and casts to 16 bits; we refuse what it would truncate.
            Name = nameof(KcpOptions.QppCount), Flag = "--QPPCount", IsKcptunFlag = true, Kind = KcpSettingKind.Int32, Min = 1, Max = 65535,
            Accepted = "1 to 65535 pads", Meaning = "Number of QPP pads; an odd (prime) count of at least 7 is advised (both ends must agree)",
            Get = o => o.QppCount, Set = (o, v) => o.QppCount = (int)v!,
        },
    ];

    /// <summary>The setting named <paramref name="name"/> (ignoring case, as configuration keys do), or null.</summary>
    public static KcpSetting? Find(string name)
    {
        foreach (var setting in All)
        {
            if (string.Equals(setting.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return setting;
            }
        }

        return null;
    }
}
