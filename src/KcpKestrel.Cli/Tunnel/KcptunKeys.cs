namespace KcpKestrel.Cli.Tunnel;

/// <summary>
/// kcptun 20210922's flags of client/main.go and server/main.go (the JSON keys of config.go are the same names),
/// with kcptun's usage text. Ranges are not here: the values become <see cref="Transport.Kcp.KcpOptions"/>, whose
/// settings check them (<see cref="KcptunOptions"/>).
/// </summary>
internal static class KcptunKeys
{
    public static IReadOnlyList<KcptunKey> All { get; } =
    [
        Text("listen", "kcp server listen address", (c, v) => c.Listen = v, TunnelSide.Server, "l"),
        Text("target", "target server address, or path/to/unix_socket", (c, v) => c.Target = v, TunnelSide.Server, "t"),
        Text("localaddr", "local listen address", (c, v) => c.LocalAddr = v, TunnelSide.Client, "l"),
        Text("remoteaddr", "kcp server address", (c, v) => c.RemoteAddr = v, TunnelSide.Client, "r"),
        Text("key", "pre-shared secret between client and server (also $KCPTUN_KEY)", (c, v) => c.Key = v),
        Text("crypt", "aes, aes-128, aes-192, salsa20, blowfish, twofish, cast5, 3des, tea, xtea, xor, sm4, none", (c, v) => c.Crypt = v),
        Text("mode", "profiles: fast3, fast2, fast, normal, manual", (c, v) => c.Mode = v),
        Int("conn", "set num of UDP connections to server", (c, v) => c.Conn = v, TunnelSide.Client),
        Int("autoexpire", "set auto expiration time(in seconds) for a single UDP connection, 0 to disable", (c, v) => c.AutoExpire = v, TunnelSide.Client),
        Int("scavengettl", "set how long an expired connection can live (in seconds)", (c, v) => c.ScavengeTtl = v, TunnelSide.Client),
        Int("mtu", "set maximum transmission unit for UDP packets", (c, v) => c.Mtu = v),
        Int("sndwnd", "set send window size(num of packets)", (c, v) => c.SendWindow = v),
        Int("rcvwnd", "set receive window size(num of packets)", (c, v) => c.ReceiveWindow = v),
        Int("datashard", "set reed-solomon erasure coding - datashard", (c, v) => c.DataShard = v, aliases: ["ds"]),
        Int("parityshard", "set reed-solomon erasure coding - parityshard", (c, v) => c.ParityShard = v, aliases: ["ps"]),
        Int("dscp", "set DSCP(6bit); accepted, not applied", (c, v) => c.Dscp = v),
        Bool("nocomp", "disable compression", (c, v) => c.NoComp = v),
        Bool("acknodelay", "flush ack immediately when a packet is received; accepted, not applied", (c, v) => c.AckNoDelay = v),
        Int("nodelay", "manual mode: KCP nodelay", (c, v) => c.NoDelay = v),
        Int("interval", "manual mode: KCP interval in ms", (c, v) => c.Interval = v),
        Int("resend", "manual mode: fast resend", (c, v) => c.Resend = v),
        Int("nc", "manual mode: 1 turns congestion control off", (c, v) => c.NoCongestion = v),
        Int("sockbuf", "per-socket buffer in bytes", (c, v) => c.SockBuf = v),
        Int("smuxver", "specify smux version, available 1,2", (c, v) => c.SmuxVer = v),
        Int("smuxbuf", "the overall de-mux buffer in bytes", (c, v) => c.SmuxBuf = v),
        Int("streambuf", "per stream receive buffer in bytes, smux v2+", (c, v) => c.StreamBuf = v),
        Int("keepalive", "seconds between heartbeats", (c, v) => c.KeepAlive = v),
        Bool("QPP", "enable Quantum Permutation Pads on every smux stream (current kcptun; both ends must agree)", (c, v) => c.Qpp = v),
        Int("QPPCount", "the prime number of pads to use for QPP", (c, v) => c.QppCount = v, jsonName: "qpp-count"),
        Text("snmplog", "collect snmp to file; accepted, not written (use the KcpKestrel meter)", (c, v) => c.SnmpLog = v),
        Int("snmpperiod", "snmp collect period, in seconds; accepted, not used", (c, v) => c.SnmpPeriod = v),
        Bool("pprof", "start profiling server on :6060; accepted, not started", (c, v) => c.Pprof = v, TunnelSide.Server),
        Text("log", "specify a log file to output, default goes to stderr", (c, v) => c.Log = v),
        Bool("quiet", "to suppress the 'stream open/close' messages", (c, v) => c.Quiet = v),
        Bool("tcp", "to emulate a TCP connection(linux); not supported (refused)", (c, v) => c.Tcp = v),
    ];

    private static KcptunKey Text(string name, string usage, Action<KcptunConfig, string> set, TunnelSide? side = null, params string[] aliases) =>
        new() { Name = name, Usage = usage, Kind = KcptunKeyKind.String, Side = side, Aliases = aliases, Set = (c, v) => set(c, (string)v) };

    private static KcptunKey Int(string name, string usage, Action<KcptunConfig, int> set, TunnelSide? side = null, string? jsonName = null, params string[] aliases) =>
        new() { Name = name, JsonName = jsonName!, Usage = usage, Kind = KcptunKeyKind.Int, Side = side, Aliases = aliases, Set = (c, v) => set(c, (int)v) };

    private static KcptunKey Bool(string name, string usage, Action<KcptunConfig, bool> set, TunnelSide? side = null) =>
        new() { Name = name, Usage = usage, Kind = KcptunKeyKind.Bool, Side = side, Set = (c, v) => set(c, (bool)v) };
}
