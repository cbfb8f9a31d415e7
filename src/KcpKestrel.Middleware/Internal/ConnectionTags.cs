using System.Net;
using KcpKestrel.Transport.Kcp;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace KcpKestrel.Middleware.Internal;

/// <summary>The transport and endpoint tags of one listener, worked out once at its first connection.</summary>
internal sealed class ConnectionTags(IConnectionBuilder builder)
{
    private string? _endpoint;

    public const string Kcp = "kcp";
    public const string Tcp = "tcp";

    public static string Transport(ConnectionContext context) => context.Features.Get<IKcpSessionFeature>() is null ? Tcp : Kcp;

    /// <summary>
    /// The listener's bound endpoint (port 0 already resolved: it is read at the first connection, after
    /// the bind), not the connection's local address, which varies per connection on wildcard binds.
    /// </summary>
    public string Endpoint(ConnectionContext context) =>
        _endpoint ??= (builder as ListenOptions)?.EndPoint?.ToString() ?? context.LocalEndPoint?.ToString() ?? "unknown";

    /// <summary>The peer's IP address, IPv4-mapped IPv6 (dual-mode sockets) folded to IPv4; null for non-IP transports.</summary>
    public static IPAddress? RemoteAddress(ConnectionContext context)
    {
        if (context.RemoteEndPoint is not IPEndPoint ip)
        {
            return null;
        }

        var address = ip.Address;
        return address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
    }
}
