using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace KcpKestrel.Cli.Tunnel;

/// <summary>
/// kcptun's flags for one side, spelled as a Go program takes them: <c>-listen</c> and <c>--listen</c> (and the short
/// aliases, <c>-l</c>), <c>--name value</c> or <c>--name=value</c>, a bool flag alone meaning true. Flags left out keep
/// kcptun's defaults for that side; <c>-c FILE</c> then overrides them with its JSON keys.
/// </summary>
internal sealed class KcptunFlags
{
    private readonly TunnelSide _side;
    private readonly List<(KcptunKey Key, Option<object?> Option)> _flags = [];
    private readonly Option<string?> _config = new("-c", "--c")
    {
        Description = "config from json file, which will override the command from shell",
        HelpName = "FILE",
    };

    public KcptunFlags(TunnelSide side)
    {
        _side = side;
        foreach (var key in KcptunKeys.All)
        {
            if (key.AppliesTo(side))
            {
                _flags.Add((key, Create(key)));
            }
        }
    }

    public void AddTo(Command command)
    {
        foreach (var (_, option) in _flags)
        {
            command.Options.Add(option);
        }

        command.Options.Add(_config);
    }

    /// <summary>kcptun's defaults for the side, then the flags given, then <c>$KCPTUN_KEY</c> (server, as kcptun) when no --key, then <c>-c</c>.</summary>
    public KcptunConfig Read(ParseResult result)
    {
        var config = new KcptunConfig(_side);
        var keyGiven = false;
        foreach (var (key, option) in _flags)
        {
            if (result.GetValue(option) is { } value)
            {
                key.Set(config, value);
                keyGiven |= key.Name == "key";
            }
        }

        // urfave/cli reads KCPTUN_KEY for the server's --key only (client/main.go declares no EnvVar).
        if (!keyGiven && _side == TunnelSide.Server && Environment.GetEnvironmentVariable("KCPTUN_KEY") is { Length: > 0 } envKey)
        {
            config.Key = envKey;
        }

        if (result.GetValue(_config) is { Length: > 0 } path)
        {
            string json;
            try
            {
                json = File.ReadAllText(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new UsageException($"-c {path}: {e.Message}");
            }

            KcptunJson.Apply(config, json, path);
        }

        return config;
    }

    private static Option<object?> Create(KcptunKey key)
    {
        var names = new List<string>();
        foreach (var name in (string[])[key.Name, .. key.Aliases])
        {
            names.Add("-" + name);
            names.Add("--" + name);
        }

        var option = new Option<object?>(names[1], [.. names.Where(n => n != names[1])])
        {
            Description = key.Usage,
            HelpName = key.Kind switch
            {
                KcptunKeyKind.Int => "N",
                KcptunKeyKind.Bool => "true|false",
                _ => "VALUE",
            },
            Arity = key.Kind == KcptunKeyKind.Bool ? ArgumentArity.ZeroOrOne : ArgumentArity.ExactlyOne,
            CustomParser = r => Parse(key, r),
        };
        return option;
    }

    private static object? Parse(KcptunKey key, ArgumentResult r)
    {
        if (key.Kind == KcptunKeyKind.Bool && r.Tokens.Count == 0)
        {
            return true;
        }

        var text = Commands.Flags.Single(r);
        switch (key.Kind)
        {
            case KcptunKeyKind.Int when int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n):
                return n;
            case KcptunKeyKind.Bool when ParseGoBool(text) is { } b:
                return b;
            case KcptunKeyKind.String:
                return text;
            default:
                r.AddError($"--{key.Name} '{text}' is not valid; accepted: {(key.Kind == KcptunKeyKind.Int ? "a whole number" : "true or false")}.");
                return null;
        }
    }

    /// <summary>Go's strconv.ParseBool, which urfave/cli uses for <c>--flag=value</c>.</summary>
    private static bool? ParseGoBool(string text) => text switch
    {
        "1" or "t" or "T" or "true" or "TRUE" or "True" => true,
        "0" or "f" or "F" or "false" or "FALSE" or "False" => false,
        _ => null,
    };
}
