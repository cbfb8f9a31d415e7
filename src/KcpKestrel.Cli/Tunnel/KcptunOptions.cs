using KcpKestrel.Transport.Kcp;
using KcpKestrel.Transport.Kcp.Client;
using KcpKestrel.Transport.Kcp.Sessions;

namespace KcpKestrel.Cli.Tunnel;

/// <summary>
/// Turns a <see cref="KcptunConfig"/> into <see cref="KcpOptions"/> as kcptun applies it: every session carries smux,
/// snappy unless nocomp, a named mode sets nodelay/interval/resend/nc (anything else is kcptun's manual mode, using
/// those four as given), an unknown cipher is aes. Ranges are <see cref="KcpOptions"/>' own; a value out of range is
/// a <see cref="UsageException"/> with kcptun's flag name. What kcptun has and we do not apply becomes a note.
/// </summary>
internal static class KcptunOptions
{
    /// <summary>The ciphers kcptun 20210922 knows; others it silently replaces with aes.</summary>
    private static readonly string[] s_kcptunCiphers = ["aes", "aes-128", "aes-192", "salsa20", "blowfish", "twofish", "cast5", "3des", "tea", "xtea", "xor", "sm4", "none"];

    public static KcpOptions ToKcpOptions(KcptunConfig config, List<string> notes)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(notes);
        if (config.Tcp)
        {
            throw new UsageException("--tcp (KCP over emulated TCP, tcpraw) is not supported; the peer would not understand the datagrams. Leave it off on both ends.");
        }

        if (config.SmuxVer > 2)
        {
            // kcptun's own check, before smux's.
            throw new UsageException($"unsupported smux version: {config.SmuxVer}");
        }

        var options = new KcpOptions
        {
            Multiplexing = KcpMultiplexing.Smux,
            Compression = config.NoComp ? KcpCompression.None : KcpCompression.Snappy,
            Key = config.Key,
            Crypt = Cipher(config, notes),
            Mtu = config.Mtu,
            SendWindow = config.SendWindow,
            ReceiveWindow = config.ReceiveWindow,
            DataShards = config.DataShard,
            ParityShards = config.ParityShard,
            SocketBufferSize = config.SockBuf,
            SmuxVersion = config.SmuxVer,
            Qpp = config.Qpp,
            QppCount = config.QppCount,
            SmuxBuffer = config.SmuxBuf,
            StreamBuffer = config.StreamBuf,
            SmuxKeepAlive = TimeSpan.FromSeconds(config.KeepAlive),
        };
        ApplyMode(config, options, notes);
        Note(notes, config);
        Validate(options);
        return options;
    }

    public static KcpClientOptions ToClientOptions(KcptunConfig config, KcpOptions kcp)
    {
        ArgumentNullException.ThrowIfNull(config);
        var options = new KcpClientOptions
        {
            Kcp = kcp,
            SessionsPerEndpoint = config.Conn,
            AutoExpire = TimeSpan.FromSeconds(Math.Max(0, config.AutoExpire)),
            ScavengeTtl = TimeSpan.FromSeconds(config.ScavengeTtl),
        };
        try
        {
            options.Validate();
        }
        catch (ArgumentException e)
        {
            var flag = e.ParamName switch
            {
                nameof(KcpClientOptions.SessionsPerEndpoint) => "--conn",
                nameof(KcpClientOptions.AutoExpire) => "--autoexpire",
                nameof(KcpClientOptions.ScavengeTtl) => "--scavengettl",
                _ => e.ParamName,
            };
            throw new UsageException($"{flag}: {e.Message.Split(" (Parameter", 2)[0]}");
        }

        return options;
    }

    /// <summary>(nodelay, interval, resend, nc) as kcptun logs them after the mode is applied.</summary>
    public static string NoDelayParameters(KcpOptions options)
    {
        var (noDelay, interval, resend, nc) = options.Mode switch
        {
            KcpMode.Normal => (0, 40, 2, 1),
            KcpMode.Fast => (0, 30, 2, 1),
            KcpMode.Fast2 => (1, 20, 2, 1),
            KcpMode.Fast3 => (1, 10, 2, 1),
            _ => (options.NoDelay, options.Interval, options.Resend, options.NoCongestionControl ? 1 : 0),
        };
        return $"{noDelay} {interval} {resend} {nc}";
    }

    private static string Cipher(KcptunConfig config, List<string> notes)
    {
        if (Array.IndexOf(s_kcptunCiphers, config.Crypt) >= 0)
        {
            return config.Crypt;
        }

        // Ours beyond kcptun 20210922 (aes-128-gcm of later kcptun, our AEADs, null) are kept; the rest is aes, as kcptun.
        foreach (var name in KcpCrypt.Names)
        {
            if (string.Equals(name, config.Crypt, StringComparison.Ordinal))
            {
                return name;
            }
        }

        notes.Add($"--crypt '{config.Crypt}' is not a cipher kcptun knows; using aes, as kcptun does.");
        return "aes";
    }

    private static void ApplyMode(KcptunConfig config, KcpOptions options, List<string> notes)
    {
        options.Mode = config.Mode switch
        {
            "normal" => KcpMode.Normal,
            "fast" => KcpMode.Fast,
            "fast2" => KcpMode.Fast2,
            "fast3" => KcpMode.Fast3,
            _ => KcpMode.Manual,
        };
        if (options.Mode != KcpMode.Manual)
        {
            return;
        }

        if (config.Mode != "manual")
        {
            notes.Add($"--mode '{config.Mode}' is not a profile; using --nodelay/--interval/--resend/--nc, as kcptun does.");
        }

        options.NoDelay = config.NoDelay;
        options.Interval = config.Interval;
        options.Resend = config.Resend;
        options.NoCongestionControl = config.NoCongestion != 0;
    }

    private static void Note(List<string> notes, KcptunConfig config)
    {
        if (config.Dscp != 0)
        {
            notes.Add($"--dscp {config.Dscp} is accepted but not applied: datagrams keep the default DSCP.");
        }

        if (config.AckNoDelay)
        {
            notes.Add("--acknodelay is accepted but not applied: acks go out with each flush interval.");
        }

        if (config.SnmpLog.Length > 0)
        {
            notes.Add("--snmplog is accepted but nothing is written; the KcpKestrel meter has the same counters.");
        }

        if (config.Pprof)
        {
            notes.Add("--pprof is accepted but no profiling server is started; use dotnet-trace or dotnet-counters.");
        }
    }

    private static void Validate(KcpOptions options)
    {
        if (!options.TryValidate(out var error))
        {
            var flag = KcpSettings.Find(error.Setting)?.Flag ?? error.Setting;
            if (error.OtherSetting is not null)
            {
                flag += "/" + (KcpSettings.Find(error.OtherSetting)?.Flag ?? error.OtherSetting);
            }

            throw new UsageException($"{flag} {error.Value} is not valid; accepted: {error.Accepted}.");
        }
    }
}
