using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;

namespace KcpKestrel.Transport.Kcp.Hosting;

/// <summary>
/// The shape of the <c>Kcp</c> configuration section:
/// <c>Kcp:Defaults:&lt;KcpOptions setting&gt;</c> and
/// <c>Kcp:Endpoints:&lt;name&gt;:Url = kcp://address:port</c> with optional <c>Protocols</c> and any
/// <see cref="KcpOptions"/> setting over the defaults.
/// </summary>
internal static class KcpConfiguration
{
    public const string SectionName = "Kcp";
    public const string DefaultsKey = "Defaults";
    public const string EndpointsKey = "Endpoints";
    public const string UrlKey = "Url";
    public const string ProtocolsKey = "Protocols";
    public const string UrlFormat = "kcp://<IP address, * or localhost>:<port 0 to 65535>";

    /// <summary>Names of the <see cref="KcpOptions"/> settings (<see cref="KcpSettings.All"/>), which are the configuration keys.</summary>
    public static readonly string[] SettingNames = GetSettingNames();

    /// <summary>A named endpoint of <c>Kcp:Endpoints</c>.</summary>
    public sealed record Endpoint(string Name, IConfigurationSection Section);

    public static IEnumerable<Endpoint> GetEndpoints(IConfiguration kcpSection)
    {
        foreach (var child in kcpSection.GetSection(EndpointsKey).GetChildren())
        {
            yield return new Endpoint(child.Key, child);
        }
    }

    /// <summary>Binds the <see cref="KcpOptions"/> settings of <paramref name="section"/> over <paramref name="options"/>.</summary>
    public static void BindSettings(IConfiguration section, KcpOptions options) => section.Bind(options);

    public static bool IsSetting(string key) => KcpSettings.Find(key) is not null;

    /// <summary>Parses <c>kcp://address:port</c>; address may be an IP literal, <c>*</c>/<c>+</c> (any IPv4) or <c>localhost</c>.</summary>
    public static bool TryParseUrl(string? url, out IPAddress address, out int port)
    {
        address = IPAddress.None;
        port = 0;
        const string scheme = "kcp://";
        if (url is null || !url.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var rest = url.AsSpan(scheme.Length).TrimEnd('/');
        var colon = rest.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(rest[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out port) || port > 65535)
        {
            return false;
        }

        var host = rest[..colon];
        if (host.Length > 2 && host[0] == '[' && host[^1] == ']')
        {
            host = host[1..^1];
        }

        if (host is "*" or "+")
        {
            address = IPAddress.Any;
            return true;
        }

        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        {
            address = IPAddress.Loopback;
            return true;
        }

        if (IPAddress.TryParse(host, out var parsed))
        {
            address = parsed;
            return true;
        }

        return false;
    }

    public static bool TryParseProtocols(string? value, out HttpProtocols protocols) =>
        Enum.TryParse(value, ignoreCase: true, out protocols) && Enum.IsDefined(protocols);

    private static string[] GetSettingNames()
    {
        var names = new string[KcpSettings.All.Count];
        for (var i = 0; i < names.Length; i++)
        {
            names[i] = KcpSettings.All[i].Name;
        }

        return names;
    }
}
