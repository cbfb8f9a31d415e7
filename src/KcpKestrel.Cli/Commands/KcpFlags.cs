using System.CommandLine;
using System.Globalization;
using KcpKestrel.Transport.Kcp;
using KcpKestrel.Transport.Kcp.Io.Datagrams;

namespace KcpKestrel.Cli.Commands;

/// <summary>
/// One flag per <see cref="KcpOptions"/> setting, built from <see cref="KcpSettings.All"/> (kcptun's flag
/// names where kcptun has them), shared by serve and bench.
/// </summary>
internal sealed class KcpFlags
{
    /// <summary>kcptun's default key, so a kcptun or kcp-go peer started without --key matches.</summary>
    public const string DefaultKey = "it's a secrect";

    /// <summary>
    /// The environment variable read for the key when --key is not given: a container passes its secret
    /// this way, off the command line (which other processes of the machine can read).
    /// </summary>
    public const string KeyVariable = "KCPKESTREL_KEY";

    private readonly List<(KcpSetting Setting, Option<object?> Option)> _flags = [];

    // Not a KcpOptions setting (no configuration key): how this process's loops do UDP I/O, which
    // operators otherwise pick with KCPKESTREL_UDP_IO. A path the kernel refuses falls back, logged.
    private readonly Option<string?> _udpIo = Flags.Choice(
        "--udp-io",
        "UDP I/O path of the KCP loops; default KCPKESTREL_UDP_IO, else epoll; iouring falls back to epoll where the kernel refuses it",
        UdpIo.Names);

    /// <param name="listener">
    /// True for serve. bench dials as a client, which reads no listener setting (<see cref="KcpSetting.ListenerOnly"/>),
    /// so it does not offer flags that would do nothing.
    /// </param>
    public KcpFlags(bool listener = true)
    {
        foreach (var setting in KcpSettings.All)
        {
            if (listener || !setting.ListenerOnly)
            {
                _flags.Add((setting, Create(setting)));
            }
        }
    }

    /// <summary>The flags, in <see cref="KcpSettings.All"/> order.</summary>
    public IEnumerable<Option> Options
    {
        get
        {
            foreach (var (_, option) in _flags)
            {
                yield return option;
            }
        }
    }

    public void AddTo(Command command)
    {
        foreach (var (_, option) in _flags)
        {
            command.Options.Add(option);
        }

        command.Options.Add(_udpIo);
    }

    /// <summary>The flag of a setting; null when this command has none (bench and listener settings).</summary>
    public string? FlagOf(string setting)
    {
        foreach (var (s, _) in _flags)
        {
            if (s.Name == setting)
            {
                return s.Flag;
            }
        }

        return null;
    }

    /// <summary>Whether the command line gave the flag of <paramref name="setting"/>.</summary>
    public bool WasGiven(ParseResult result, string setting)
    {
        foreach (var (s, option) in _flags)
        {
            if (s.Name == setting)
            {
                return result.GetValue(option) is not null;
            }
        }

        return false;
    }

    /// <summary>Builds validated options; bad combinations throw <see cref="UsageException"/> naming the flag.</summary>
    public KcpOptions Build(ParseResult result)
    {
        var options = new KcpOptions { Key = Environment.GetEnvironmentVariable(KeyVariable) is { Length: > 0 } key ? key : DefaultKey };

        // kcptun: --nodelay/--interval/--resend/--nc alone mean "manual"; with a named --mode they conflict.
        string? manualFlag = null;
        object? mode = null;
        foreach (var (setting, option) in _flags)
        {
            var value = result.GetValue(option);
            if (setting.Name == nameof(KcpOptions.Mode))
            {
                mode = value;
            }
            else if (setting.ManualModeOnly && value is not null)
            {
                manualFlag ??= setting.Flag;
            }
        }

        if (mode is null)
        {
            options.Mode = manualFlag is null ? options.Mode : KcpMode.Manual;
        }
        else if (manualFlag is not null && (KcpMode)mode != KcpMode.Manual)
        {
            throw new UsageException($"{manualFlag} applies only with --mode manual (or without --mode); --mode {Name(mode)} sets it already.");
        }

        foreach (var (setting, option) in _flags)
        {
            if (result.GetValue(option) is { } value)
            {
                setting.Set(options, value);
            }
        }

        if (UdpIo.Parse(result.GetValue(_udpIo)) is { } io)
        {
            options.IoOverrides = options.IoOverrides with { Mode = io };
        }

        Validate(options);
        return options;
    }

    /// <summary>Runs <see cref="KcpOptions.TryValidate"/> and restates its error with the flag names.</summary>
    public void Validate(KcpOptions options)
    {
        if (!options.TryValidate(out var error))
        {
            var flag = FlagOf(error.Setting) ?? error.Setting;
            if (error.OtherSetting is not null)
            {
                flag += "/" + (FlagOf(error.OtherSetting) ?? error.OtherSetting);
            }

            throw new UsageException($"{flag} {error.Value} is not valid; accepted: {error.Accepted}.");
        }
    }

    private static Option<object?> Create(KcpSetting setting)
    {
        var accepted = Accepted(setting);
        var option = new Option<object?>(setting.Flag)
        {
            Description = Describe(setting, accepted),
            CustomParser = r =>
            {
                var text = Flags.Single(r);
                if (TryParse(setting, text, out var value) && setting.IsValid(value))
                {
                    return value;
                }

                r.AddError($"{setting.Flag} '{text}' is not valid; accepted: {accepted}.");
                return null;
            },
        };
        if (setting.Names is not null)
        {
            option.HelpName = string.Join('|', CliNames(setting));
        }
        else
        {
            option.HelpName = setting.Kind switch
            {
                KcpSettingKind.Boolean => "true|false",
                KcpSettingKind.Duration => "SECONDS",
                KcpSettingKind.Int64 => "BYTES",
                KcpSettingKind.String => "TEXT",
                _ => "N",
            };
        }

        return option;
    }

    private static string Describe(KcpSetting setting, string accepted)
    {
        var defaultText = setting.Name switch
        {
            nameof(KcpOptions.Key) => $"{KeyVariable} if set, else kcptun's",
            _ when setting.DefaultDescription is not null => setting.DefaultDescription,
            _ => Show(setting, setting.Default),
        };
        var manual = setting.ManualModeOnly ? "; implies --mode manual" : string.Empty;
        return $"{setting.Meaning}; default {defaultText}{manual} ({accepted})";
    }

    /// <summary>What the flag accepts: the setting's words, with the CLI's spelling of names and times.</summary>
    private static string Accepted(KcpSetting setting) => setting.Kind switch
    {
        KcpSettingKind.Enum => string.Join(", ", CliNames(setting)),
        KcpSettingKind.Duration => $"{setting.Accepted} in seconds",
        KcpSettingKind.Int64 => $"{setting.Accepted}, optionally with a K, M or G suffix (64M = 64 MiB)",
        _ => setting.Accepted,
    };

    /// <summary>kcptun spells modes in lower case (--mode fast2).</summary>
    private static List<string> CliNames(KcpSetting setting)
    {
        var names = new List<string>();
        foreach (var name in setting.Names!)
        {
            names.Add(setting.Kind == KcpSettingKind.Enum ? name.ToLowerInvariant() : name);
        }

        return names;
    }

    private static string Name(object value) => KcpSetting.Format(value).ToLowerInvariant();

    private static string Show(KcpSetting setting, object? value) => value switch
    {
        TimeSpan t => t.TotalSeconds.ToString(CultureInfo.InvariantCulture),
        _ when setting.Kind == KcpSettingKind.Enum => Name(value!),
        _ => KcpSetting.Format(value),
    };

    private static bool TryParse(KcpSetting setting, string text, out object? value)
    {
        value = null;
        switch (setting.Kind)
        {
            case KcpSettingKind.Int32 when int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n):
                value = n;
                return true;
            case KcpSettingKind.Int64 when Flags.TryParseBytes(text, out var bytes):
                value = bytes;
                return true;
            case KcpSettingKind.Boolean when text is "1" or "0":
                value = text == "1";
                return true;
            case KcpSettingKind.Boolean when bool.TryParse(text, out var b):
                value = b;
                return true;
            case KcpSettingKind.Duration when double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds)
                && double.IsFinite(seconds) && Math.Abs(seconds) < TimeSpan.MaxValue.TotalSeconds:
                value = TimeSpan.FromSeconds(seconds);
                return true;
            case KcpSettingKind.Enum when setting.FindName(text) is { } name:
                value = setting.FromName!(name);
                return true;
            case KcpSettingKind.String when setting.Names is null:
                value = text;
                return true;
            case KcpSettingKind.String when setting.FindName(text) is { } name:
                value = name;
                return true;
            default:
                return false;
        }
    }
}
