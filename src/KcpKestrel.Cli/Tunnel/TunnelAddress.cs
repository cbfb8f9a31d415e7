using System.Globalization;
using System.Net;
using System.Net.Sockets;
using KcpKestrel.Transport.Kcp;

namespace KcpKestrel.Cli.Tunnel;

/// <summary>
/// kcptun's addresses, as Go's net package reads them: <c>HOST:PORT</c> where HOST may be empty (every
/// address: <c>:29900</c>), an IP literal (<c>[::1]:29900</c>) or a name resolved when used.
/// </summary>
internal static class TunnelAddress
{
    /// <summary>Splits <paramref name="text"/>; false when it has no port or a bad one.</summary>
    public static bool TrySplit(string text, out string host, out int port)
    {
        host = string.Empty;
        port = 0;
        var colon = text.LastIndexOf(':');
        if (colon < 0 || colon < text.LastIndexOf(']')
            || !int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out port) || port > 65535)
        {
            return false;
        }

        host = text[..colon];
        if (host.StartsWith('[') && host.EndsWith(']'))
        {
            host = host[1..^1];
        }

        return true;
    }

    /// <summary>
    /// The KCP side's address: <c>HOST:PORT</c>, or as current kcptun <c>HOST:MINPORT-MAXPORT</c> (a server listens on
    /// every port of the range; a client sends each new session to a port drawn from it).
    /// </summary>
    public static async Task<KcpEndPoint> ResolveKcpAsync(string flag, string text, CancellationToken cancellationToken)
    {
        var colon = text.LastIndexOf(':');
        var dash = text.LastIndexOf('-');
        if (colon < 0 || dash < colon)
        {
            return new KcpEndPoint(await ResolveAsync(flag, text, cancellationToken).ConfigureAwait(false));
        }

        if (!int.TryParse(text.AsSpan(dash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var maxPort))
        {
            throw new UsageException($"{flag} '{text}' is not valid; accepted: HOST:PORT or HOST:MINPORT-MAXPORT.");
        }

        var first = await ResolveAsync(flag, text[..dash], cancellationToken).ConfigureAwait(false);
        if (first.Port < 1 || maxPort < first.Port || maxPort > IPEndPoint.MaxPort)
        {
            throw new UsageException($"{flag} '{text}' is not a valid port range; accepted: 1 <= MINPORT <= MAXPORT <= 65535.");
        }

        return new KcpEndPoint(first.Address, first.Port, maxPort);
    }

    /// <summary>The endpoint to listen on or dial; an empty host is every IPv4 address, a name is resolved now.</summary>
    public static async Task<IPEndPoint> ResolveAsync(string flag, string text, CancellationToken cancellationToken)
    {
        if (!TrySplit(text, out var host, out var port))
        {
            throw new UsageException($"{flag} '{text}' is not valid; accepted: HOST:PORT, for example :29900 or 127.0.0.1:29900.");
        }

        if (host.Length == 0)
        {
            return new IPEndPoint(IPAddress.Any, port);
        }

        if (IPAddress.TryParse(host, out var address))
        {
            return new IPEndPoint(address, port);
        }

        try
        {
            var addresses = await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
            var chosen = Array.Find(addresses, a => a.AddressFamily == AddressFamily.InterNetwork) ?? addresses.FirstOrDefault()
                ?? throw new UsageException($"{flag} '{text}': {host} has no address.");
            return new IPEndPoint(chosen, port);
        }
        catch (SocketException e)
        {
            throw new UsageException($"{flag} '{text}': cannot resolve {host}: {e.Message}");
        }
    }
}
