using System.Net;
using KcpKestrel.Transport.Tcp;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Microsoft.AspNetCore.Hosting;

/// <summary>Adds tuned TCP endpoints to Kestrel beside its default sockets and other transports.</summary>
public static class TunedTcpKestrelServerOptionsExtensions
{
    /// <summary>Listens on <paramref name="address"/>:<paramref name="port"/> through the tuned TCP listener
    /// (needs <c>UseTunedTcp</c>), whatever <see cref="TunedTcpOptions.BindAllIPEndPoints"/> says.</summary>
    /// <param name="options">Kestrel's options.</param>
    /// <param name="address">The address to bind.</param>
    /// <param name="port">The port to bind; 0 lets the kernel choose.</param>
    public static void ListenTunedTcp(this KestrelServerOptions options, IPAddress address, int port) =>
        options.ListenTunedTcp(address, port, static _ => { });

    /// <summary>Listens on <paramref name="address"/>:<paramref name="port"/> through the tuned TCP listener
    /// (needs <c>UseTunedTcp</c>), whatever <see cref="TunedTcpOptions.BindAllIPEndPoints"/> says. For options of
    /// this endpoint only, pass a <see cref="TunedTcpEndPoint"/> with <see cref="TunedTcpEndPoint.Options"/> set to
    /// <c>KestrelServerOptions.Listen</c>.</summary>
    /// <param name="options">Kestrel's options.</param>
    /// <param name="address">The address to bind.</param>
    /// <param name="port">The port to bind; 0 lets the kernel choose.</param>
    /// <param name="configure">Configures the endpoint (protocols, <c>UseHttps</c>, connection middleware).</param>
    public static void ListenTunedTcp(this KestrelServerOptions options, IPAddress address, int port, Action<ListenOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(address);
        ArgumentNullException.ThrowIfNull(configure);
        options.Listen(new TunedTcpEndPoint(address, port), configure);
    }
}
