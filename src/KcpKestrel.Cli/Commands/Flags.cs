using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Net;

namespace KcpKestrel.Cli.Commands;

/// <summary>
/// Option factories whose parse errors are one line naming the flag and what it accepts
/// (System.CommandLine's own messages name the CLR type instead).
/// </summary>
internal static class Flags
{
    public static Option<IPEndPoint?> Endpoint(string name, string description, bool required = false) =>
        new(name)
        {
            Description = description,
            Required = required,
            HelpName = "HOST:PORT",
            CustomParser = r =>
            {
                var text = Single(r);
                if (HostPort.TryParse(text, out var endPoint, out var error))
                {
                    return endPoint;
                }

                r.AddError($"{name}: {error}");
                return null;
            },
        };

    public static Option<int?> Int(string name, string description, int min, int max, string? accepted = null)
    {
        accepted ??= $"a whole number from {min} to {max}";
        return new Option<int?>(name)
        {
            Description = $"{description} ({accepted})",
            CustomParser = r =>
            {
                var text = Single(r);
                if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
                {
                    return value;
                }

                r.AddError($"{name} '{text}' is not valid; accepted: {accepted}.");
                return null;
            },
        };
    }

    /// <summary>A name for logs and reports: 1 to <paramref name="maxLength"/> letters, digits, '.', '_', '-' or ':' (no spaces, so it stays one field of a line).</summary>
    public static Option<string?> Name(string name, string description, int maxLength)
    {
        var accepted = $"1 to {maxLength} characters: letters, digits, '.', '_', '-' or ':'";
        return new Option<string?>(name)
        {
            Description = $"{description} ({accepted})",
            HelpName = "ID",
            CustomParser = r =>
            {
                var text = Single(r);
                if (text.Length is > 0 && text.Length <= maxLength && text.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or ':'))
                {
                    return text;
                }

                r.AddError($"{name} '{text}' is not valid; accepted: {accepted}.");
                return null;
            },
        };
    }

    /// <summary>A byte count; accepts K, M and G suffixes (binary: 64M = 64 MiB).</summary>
    public static Option<long?> Bytes(string name, string description, long min, long max)
    {
        var accepted = $"a byte count from {min} to {max}, optionally with a K, M or G suffix (64M = 64 MiB)";
        return new Option<long?>(name)
        {
            Description = $"{description} ({accepted})",
            CustomParser = r =>
            {
                var text = Single(r);
                if (TryParseBytes(text, out var value) && value >= min && value <= max)
                {
                    return value;
                }

                r.AddError($"{name} '{text}' is not valid; accepted: {accepted}.");
                return null;
            },
        };
    }

    public static Option<double?> Double(string name, string description, double min, double max, string accepted)
    {
        return new Option<double?>(name)
        {
            Description = $"{description} ({accepted})",
            CustomParser = r =>
            {
                var text = Single(r);
                if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
                {
                    return value;
                }

                r.AddError($"{name} '{text}' is not valid; accepted: {accepted}.");
                return null;
            },
        };
    }

    /// <summary>One of a fixed set of words (case-insensitive); the error lists them all.</summary>
    public static Option<string?> Choice(string name, string description, IReadOnlyList<string> choices)
    {
        var accepted = string.Join(", ", choices);
        return new Option<string?>(name)
        {
            Description = $"{description} ({accepted})",
            HelpName = string.Join('|', choices),
            CustomParser = r =>
            {
                var text = Single(r);
                foreach (var choice in choices)
                {
                    if (string.Equals(choice, text, StringComparison.OrdinalIgnoreCase))
                    {
                        return choice;
                    }
                }

                r.AddError($"{name} '{text}' is not valid; accepted: {accepted}.");
                return null;
            },
        };
    }

    public static bool TryParseBytes(string text, out long value)
    {
        value = 0;
        if (string.IsNullOrEmpty(text))
        {
            return false;
        }

        var shift = char.ToUpperInvariant(text[^1]) switch
        {
            'K' => 10,
            'M' => 20,
            'G' => 30,
            _ => 0,
        };
        var digits = shift == 0 ? text : text[..^1];
        if (!long.TryParse(digits, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number) || number < 0 || number > (long.MaxValue >> shift))
        {
            return false;
        }

        value = number << shift;
        return true;
    }

    public static string Single(ArgumentResult r) => r.Tokens.Count > 0 ? r.Tokens[^1].Value : string.Empty;
}
