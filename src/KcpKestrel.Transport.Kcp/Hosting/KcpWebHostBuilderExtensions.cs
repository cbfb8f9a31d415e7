using KcpKestrel.Transport.Kcp;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.AspNetCore.Hosting;

/// <summary>Adds the KCP transport to a web host.</summary>
public static class KcpWebHostBuilderExtensions
{
    /// <summary>
    /// Registers the KCP transport beside Kestrel's sockets transport: endpoints added with
    /// <c>ListenKcp</c> are served over KCP, every other endpoint as before. Binds the <c>Kcp</c>
    /// configuration section to <see cref="KcpTransportOptions.Defaults"/>.
    /// </summary>
    /// <param name="builder">The web host builder.</param>
    /// <param name="configure">Changes the transport's options after configuration is bound.</param>
    /// <returns>The builder.</returns>
    public static IWebHostBuilder UseKcp(this IWebHostBuilder builder, Action<KcpTransportOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.ConfigureServices((context, services) =>
        {
            var section = context.Configuration.GetSection("Kcp");
            var optionsBuilder = services.AddOptions<KcpTransportOptions>();
            optionsBuilder.Configure(o => Microsoft.Extensions.Configuration.ConfigurationBinder.Bind(section, o.Defaults));
            if (configure is not null)
            {
                optionsBuilder.Configure(configure);
            }

            // Each endpoint validates its own settings (defaults plus its ListenKcp callback) at bind.
            // Kestrel adds its sockets transport with TryAdd; make sure it is there whatever the
            // order of calls, so IP endpoints keep working beside KCP ones.
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IConnectionListenerFactory, SocketTransportFactory>());
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IConnectionListenerFactory, KcpConnectionListenerFactory>());
        });
    }
}
