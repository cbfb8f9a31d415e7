using System.Globalization;

namespace KcpKestrel.Transport.Kcp;

/// <summary>
/// What the transport knows about one <see cref="KcpOptions"/> setting: its name, its command-line flag,
/// the values it accepts, its default and its meaning. <see cref="KcpSettings.All"/> lists every setting;
/// validation, the configuration keys, the CLI flags and their help all read that list.
/// </summary>
internal sealed class KcpSetting
{
    // Defaults come from a fresh KcpOptions, so the property initializers stay the one place they are written.
    private static readonly KcpOptions Fresh = new();

    /// <summary>The <see cref="KcpOptions"/> property name, which is also the configuration key.</summary>
    public required string Name { get; init; }

    /// <summary>The CLI flag: kcptun's (<see cref="IsKcptunFlag"/>) where kcptun has one, kebab-case otherwise.</summary>
    public required string Flag { get; init; }

    /// <summary>True when <see cref="Flag"/> is kcptun's own flag, so kcptun command lines carry over.</summary>
    public bool IsKcptunFlag { get; init; }

    /// <summary>The value type.</summary>
    public required KcpSettingKind Kind { get; init; }

    /// <summary>Smallest accepted value of a number (ticks for a <see cref="KcpSettingKind.Duration"/>).</summary>
    public long Min { get; init; }

    /// <summary>Largest accepted value of a number (ticks for a <see cref="KcpSettingKind.Duration"/>).</summary>
    public long Max { get; init; }

    /// <summary>Accepted names of an enum or a string; null for free text.</summary>
    public IReadOnlyList<string>? Names { get; init; }

    /// <summary>What is accepted, in words, as error messages and help show it ("100 to 1500 bytes").</summary>
    public required string Accepted { get; init; }

    /// <summary>One line on what the setting does.</summary>
    public required string Meaning { get; init; }

    /// <summary>Read only in <see cref="KcpMode.Manual"/> (the other modes are presets of it).</summary>
    public bool ManualModeOnly { get; init; }

    /// <summary>Read by listeners only; a client (KcpConnectionFactory) ignores it.</summary>
    public bool ListenerOnly { get; init; }

    /// <summary>Shown instead of <see cref="Default"/> when the default depends on the machine.</summary>
    public string? DefaultDescription { get; init; }

    /// <summary>Reads the setting (boxed).</summary>
    public required Func<KcpOptions, object?> Get { get; init; }

    /// <summary>Writes the setting; the value must be of <see cref="Kind"/>'s type.</summary>
    public required Action<KcpOptions, object?> Set { get; init; }

    /// <summary>For an <see cref="KcpSettingKind.Enum"/>: the value of one of <see cref="Names"/>.</summary>
    public Func<string, object>? FromName { get; init; }

    /// <summary>The value of a new <see cref="KcpOptions"/>.</summary>
    public object? Default => Get(Fresh);

    /// <summary>The default as help and docs show it.</summary>
    public string DefaultText => DefaultDescription ?? Format(Default);

    /// <summary>Whether <paramref name="value"/> is accepted on its own (rules between settings are in <see cref="KcpOptions.TryValidate"/>).</summary>
    public bool IsValid(object? value) => Kind switch
    {
        KcpSettingKind.Int32 => value is int n && n >= Min && n <= Max,
        KcpSettingKind.Int64 => value is long n && n >= Min && n <= Max,
        KcpSettingKind.Duration => value is TimeSpan t && t.Ticks >= Min && t.Ticks <= Max,
        KcpSettingKind.Boolean => value is bool,
        KcpSettingKind.Enum => value is Enum e && Enum.IsDefined(e.GetType(), e),
        KcpSettingKind.String => Names is null || (value is string s && FindName(s) is not null),
        _ => false,
    };

    /// <summary>The accepted name equal to <paramref name="text"/> ignoring case, or null.</summary>
    public string? FindName(string text)
    {
        if (Names is not null)
        {
            foreach (var name in Names)
            {
                if (string.Equals(name, text, StringComparison.OrdinalIgnoreCase))
                {
                    return name;
                }
            }
        }

        return null;
    }

    /// <summary>Copies this setting from <paramref name="from"/> to <paramref name="to"/>.</summary>
    public void Copy(KcpOptions from, KcpOptions to) => Set(to, Get(from));

    /// <summary>A value as messages show it: invariant numbers, <c>true</c>/<c>false</c>, TimeSpan's <c>c</c> format.</summary>
    public static string Format(object? value) => value switch
    {
        null => "(none)",
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? string.Empty,
    };
}
