using System.CommandLine;
using KcpKestrel.Transport.Kcp;

namespace KcpKestrel.Cli.Commands;

/// <summary>kcptun's KCP flags, shared by serve and bench, mapped onto <see cref="KcpOptions"/>.</summary>
internal sealed class KcpFlags
{
    /// <summary>kcptun's default key, so a kcptun or kcp-go peer started without --key matches.</summary>
    public const string DefaultKey = "it's a secrect";

    public static readonly string[] CryptNames =
    [
        "aes", "aes-128", "aes-192", "salsa20", "blowfish", "twofish", "cast5", "3des", "tea", "xtea", "xor", "sm4",
        "none", "null", "aes-128-gcm", "aes-256-gcm", "chacha20-poly1305",
    ];

    public static readonly string[] ModeNames = ["normal", "fast", "fast2", "fast3", "manual"];

    public Option<string?> Crypt { get; } = Flags.Choice("--crypt", "Packet cipher; both ends must agree (default aes)", CryptNames);

    public Option<string?> Key { get; } = new("--key") { Description = "Pre-shared secret, stretched with PBKDF2 as kcptun does (default kcptun's)" };

    public Option<string?> Mode { get; } = Flags.Choice("--mode", "Preset of nodelay/interval/resend/nc (default fast)", ModeNames);

    public Option<int?> NoDelay { get; } = Flags.Int("--nodelay", "KCP nodelay; implies --mode manual", 0, 1, "0 or 1");

    public Option<int?> Interval { get; } = Flags.Int("--interval", "KCP flush interval in ms; implies --mode manual", 1, 5000, "1 to 5000 ms");

    public Option<int?> Resend { get; } = Flags.Int("--resend", "Fast retransmit after this many duplicate acks, 0 off; implies --mode manual", 0, 100);

    public Option<int?> Nc { get; } = Flags.Int("--nc", "1 turns congestion control off; implies --mode manual", 0, 1, "0 or 1");

    public Option<int?> SendWindow { get; } = Flags.Int("--sndwnd", "Send window in segments (default 1024)", 1, 65535);

    public Option<int?> ReceiveWindow { get; } = Flags.Int("--rcvwnd", "Receive window in segments (default 1024)", 1, 65535);

    public Option<int?> Mtu { get; } = Flags.Int("--mtu", "Largest datagram, headers included (default 1350)", 100, 1500, "100 to 1500 bytes");

    public Option<int?> DataShards { get; } = Flags.Int("--datashard", "Reed-Solomon data shards, 0 turns FEC off (default 10); both ends must agree", 0, 255);

    public Option<int?> ParityShards { get; } = Flags.Int("--parityshard", "Reed-Solomon parity shards, 0 turns FEC off (default 3); both ends must agree", 0, 255);

    public Option<int?> SocketBuffer { get; } = Flags.Int("--sockbuf", "UDP socket buffer in bytes (default 4194304)", 4096, 1 << 30, "4096 to 1073741824 bytes");

    public void AddTo(Command command)
    {
        command.Options.Add(Crypt);
        command.Options.Add(Key);
        command.Options.Add(Mode);
        command.Options.Add(NoDelay);
        command.Options.Add(Interval);
        command.Options.Add(Resend);
        command.Options.Add(Nc);
        command.Options.Add(SendWindow);
        command.Options.Add(ReceiveWindow);
        command.Options.Add(Mtu);
        command.Options.Add(DataShards);
        command.Options.Add(ParityShards);
        command.Options.Add(SocketBuffer);
    }

    /// <summary>Builds validated options; bad combinations throw <see cref="UsageException"/> naming the flag.</summary>
    public KcpOptions Build(ParseResult result)
    {
        var options = new KcpOptions
        {
            Crypt = result.GetValue(Crypt) ?? "aes",
            Key = result.GetValue(Key) ?? DefaultKey,
        };

        var manualFlags = new[] { NoDelay, Interval, Resend, Nc };
        string? manualFlag = null;
        foreach (var flag in manualFlags)
        {
            if (result.GetValue(flag) is not null)
            {
                manualFlag = flag.Name;
                break;
            }
        }

        var mode = result.GetValue(Mode);
        if (mode is null)
        {
            options.Mode = manualFlag is null ? KcpMode.Fast : KcpMode.Manual;
        }
        else
        {
            options.Mode = Enum.Parse<KcpMode>(mode, ignoreCase: true);
            if (manualFlag is not null && options.Mode != KcpMode.Manual)
            {
                throw new UsageException($"{manualFlag} applies only with --mode manual (or without --mode); --mode {mode} sets it already.");
            }
        }

        if (options.Mode == KcpMode.Manual)
        {
            options.NoDelay = result.GetValue(NoDelay) ?? options.NoDelay;
            options.Interval = result.GetValue(Interval) ?? options.Interval;
            options.Resend = result.GetValue(Resend) ?? options.Resend;
            options.NoCongestionControl = (result.GetValue(Nc) ?? (options.NoCongestionControl ? 1 : 0)) == 1;
        }

        options.SendWindow = result.GetValue(SendWindow) ?? options.SendWindow;
        options.ReceiveWindow = result.GetValue(ReceiveWindow) ?? options.ReceiveWindow;
        options.Mtu = result.GetValue(Mtu) ?? options.Mtu;
        options.DataShards = result.GetValue(DataShards) ?? options.DataShards;
        options.ParityShards = result.GetValue(ParityShards) ?? options.ParityShards;
        options.SocketBufferSize = result.GetValue(SocketBuffer) ?? options.SocketBufferSize;
        Validate(options);
        return options;
    }

    /// <summary>Runs <see cref="KcpOptions.Validate"/> and restates its message with the flag name.</summary>
    public static void Validate(KcpOptions options)
    {
        try
        {
            options.Validate();
        }
        catch (ArgumentException e)
        {
            throw new UsageException(Translate(e));
        }
    }

    internal static string Translate(ArgumentException e)
    {
        var flag = e.ParamName switch
        {
            nameof(KcpOptions.Mode) => "--mode",
            nameof(KcpOptions.NoDelay) => "--nodelay",
            nameof(KcpOptions.Interval) => "--interval",
            nameof(KcpOptions.Resend) => "--resend",
            nameof(KcpOptions.SendWindow) => "--sndwnd",
            nameof(KcpOptions.ReceiveWindow) => "--rcvwnd",
            nameof(KcpOptions.Mtu) => "--mtu",
            nameof(KcpOptions.DataShards) => "--datashard/--parityshard",
            nameof(KcpOptions.ParityShards) => "--datashard/--parityshard",
            nameof(KcpOptions.SocketBufferSize) => "--sockbuf",
            nameof(KcpOptions.Crypt) => "--crypt",
            nameof(KcpOptions.Key) => "--key",
            _ => e.ParamName ?? "a KCP option",
        };

        // "KCP option Mtu = 50 is not valid; accepted: ... (Parameter 'Mtu')" -> "--mtu 50 is not valid; accepted: ..."
        var message = e.Message;
        var parameter = message.IndexOf(" (Parameter", StringComparison.Ordinal);
        if (parameter >= 0)
        {
            message = message[..parameter];
        }

        var prefix = $"KCP option {e.ParamName} = ";
        return message.StartsWith(prefix, StringComparison.Ordinal)
            ? $"{flag} {message[prefix.Length..]}"
            : $"{flag}: {message}";
    }
}
