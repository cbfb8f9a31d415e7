using KcpKestrel.Transport.Tcp;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.AspNetCore.Hosting;

/// <summary>Registers the tuned TCP listener with a Kestrel host.</summary>
public static class TunedTcpWebHostBuilderExtensions
{
    /// <summary>Registers the tuned TCP listener with default <see cref="TunedTcpOptions"/>.</summary>
    /// <param name="hostBuilder">The web host builder.</param>
    /// <returns><paramref name="hostBuilder"/>.</returns>
    /// <remarks>See <see cref="UseTunedTcp(IWebHostBuilder, Action{TunedTcpOptions})"/>.</remarks>
    public static IWebHostBuilder UseTunedTcp(this IWebHostBuilder hostBuilder) => hostBuilder.UseTunedTcp(static _ => { });

    /// <summary>
    /// Registers the tuned TCP listener. With <see cref="TunedTcpOptions.BindAllIPEndPoints"/> true (the default)
    /// it serves every plain IP endpoint Kestrel listens on, replacing Kestrel's default sockets transport for them;
    /// with it false only endpoints added with <c>ListenTunedTcp</c> (or a <see cref="TunedTcpEndPoint"/>) use it and
    /// the rest stay on Kestrel's sockets transport. Unix sockets, file handles and other endpoint types (such as
    /// the KCP transport's) are left to their own factories. Works whether called before or after <c>UseKestrel</c>.
    /// </summary>
    /// <param name="hostBuilder">The web host builder.</param>
    /// <param name="configureOptions">Configures the options shared by every tuned endpoint.</param>
    /// <returns><paramref name="hostBuilder"/>.</returns>
    public static IWebHostBuilder UseTunedTcp(this IWebHostBuilder hostBuilder, Action<TunedTcpOptions> configureOptions)
    {
        ArgumentNullException.ThrowIfNull(hostBuilder);
        ArgumentNullException.ThrowIfNull(configureOptions);
        return hostBuilder.ConfigureServices(services =>
        {
            // Kestrel tries factories from the last registered back, and UseKestrel adds its sockets factory only
            // when no factory is registered yet; adding it here first keeps it available for the endpoints we do
            // not bind, and keeps ours ahead of it in either call order.
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IConnectionListenerFactory, SocketTransportFactory>());
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IConnectionListenerFactory, TunedTcpConnectionListenerFactory>());
            services.Configure(configureOptions);
        });
    }
}
