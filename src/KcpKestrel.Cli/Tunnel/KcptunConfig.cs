namespace KcpKestrel.Cli.Tunnel;

/// <summary>
/// kcptun 20210922's <c>Config</c> of one side, with that side's defaults (client and server differ in
/// sndwnd/rcvwnd). Filled from flags, then from <c>-c config.json</c>, which overrides the flags as in kcptun.
/// Values are kept as kcptun has them (ints, seconds); <see cref="KcptunOptions"/> turns them into options.
/// </summary>
internal sealed class KcptunConfig
{
    public KcptunConfig(TunnelSide side)
    {
        Side = side;
        SendWindow = side == TunnelSide.Server ? 1024 : 128;
        ReceiveWindow = side == TunnelSide.Server ? 1024 : 512;
    }

    public TunnelSide Side { get; }

    // Server.
    public string Listen { get; set; } = ":29900";

    public string Target { get; set; } = "127.0.0.1:12948";

    // Client.
    public string LocalAddr { get; set; } = ":12948";

    public string RemoteAddr { get; set; } = "vps:29900";

    public int Conn { get; set; } = 1;

    public int AutoExpire { get; set; }

    public int ScavengeTtl { get; set; } = 600;

    // Both.
    public string Key { get; set; } = "it's a secrect";

    public string Crypt { get; set; } = "aes";

    public string Mode { get; set; } = "fast";

    public int Mtu { get; set; } = 1350;

    public int SendWindow { get; set; }

    public int ReceiveWindow { get; set; }

    public int DataShard { get; set; } = 10;

    public int ParityShard { get; set; } = 3;

    public int Dscp { get; set; }

    public bool NoComp { get; set; }

    public bool AckNoDelay { get; set; }

    // kcptun's manual-mode values: its hidden flags' defaults, used only when --mode is not a named profile.
    public int NoDelay { get; set; }

    public int Interval { get; set; } = 50;

    public int Resend { get; set; }

    public int NoCongestion { get; set; }

    public int SockBuf { get; set; } = 4194304;

    public int SmuxVer { get; set; } = 1;

    public int SmuxBuf { get; set; } = 4194304;

    public int StreamBuf { get; set; } = 2097152;

    public int KeepAlive { get; set; } = 10;

    public string Log { get; set; } = string.Empty;

    public string SnmpLog { get; set; } = string.Empty;

    public int SnmpPeriod { get; set; } = 60;

    public bool Pprof { get; set; }

    public bool Quiet { get; set; }

    public bool Tcp { get; set; }

    /// <summary>Current kcptun's --QPP: Quantum Permutation Pads on every smux stream.</summary>
    public bool Qpp { get; set; }

    /// <summary>Current kcptun's --QPPCount (JSON "qpp-count"), 61 by default.</summary>
    public int QppCount { get; set; } = 61;
}
