using System.Diagnostics.CodeAnalysis;
using System.Net;

namespace KcpKestrel.Cli;

/// <summary>Parses kcptun-style <c>HOST:PORT</c> values (an IP literal or <c>localhost</c>).</summary>
internal static class HostPort
{
    public static bool TryParse(string? text, [NotNullWhen(true)] out IPEndPoint? endPoint, [NotNullWhen(false)] out string? error)
    {
        endPoint = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "expected HOST:PORT, for example 127.0.0.1:4000";
            return false;
        }

        var colon = text.LastIndexOf(':');
        if (colon <= 0 || colon < text.LastIndexOf(']'))
        {
            error = $"'{text}' has no port; expected HOST:PORT, for example 127.0.0.1:4000";
            return false;
        }

        var host = text[..colon].Trim('[', ']');
        if (!int.TryParse(text.AsSpan(colon + 1), out var port) || port is < 0 or > 65535)
        {
            error = $"'{text}' has a bad port; expected 0 to 65535";
            return false;
        }

        IPAddress? address;
        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            address = IPAddress.Loopback;
        }
        else if (!IPAddress.TryParse(host, out address))
        {
            error = $"'{host}' is not an IP address; expected an IPv4 or IPv6 literal or localhost";
            return false;
        }

        endPoint = new IPEndPoint(address, port);
        error = null;
        return true;
    }
}
