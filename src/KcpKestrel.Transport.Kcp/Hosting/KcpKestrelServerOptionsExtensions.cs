using System.Net;
using KcpKestrel.Transport.Kcp;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Microsoft.AspNetCore.Hosting;

/// <summary>Adds KCP endpoints to Kestrel.</summary>
public static class KcpKestrelServerOptionsExtensions
{
    /// <summary>Serves a UDP address and port over KCP (needs <c>UseKcp</c> on the host).</summary>
    /// <param name="options">Kestrel's options.</param>
    /// <param name="address">Address to bind (IPv6Any serves IPv4 too).</param>
    /// <param name="port">UDP port; 0 picks a free one.</param>
    /// <param name="configureKcp">KCP settings of this endpoint, over the transport's defaults.</param>
    /// <param name="configureListen">Kestrel's listen options (protocols, <c>UseHttps</c>, connection middleware).</param>
    public static void ListenKcp(
        this KestrelServerOptions options,
        IPAddress address,
        int port,
        Action<KcpOptions>? configureKcp = null,
        Action<ListenOptions>? configureListen = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(address);
        options.Listen(new KcpEndPoint(address, port) { Configure = configureKcp }, configureListen ?? (static _ => { }));
    }
}
