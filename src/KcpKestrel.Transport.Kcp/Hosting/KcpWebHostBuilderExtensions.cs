using KcpKestrel.Transport.Kcp;
using KcpKestrel.Transport.Kcp.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.AspNetCore.Hosting;

/// <summary>Adds the KCP transport to a web host.</summary>
public static class KcpWebHostBuilderExtensions
{
    /// <summary>
    /// Registers the KCP transport beside Kestrel's sockets transport: endpoints added with
    /// <c>ListenKcp</c> are served over KCP, every other endpoint as before. Reads the <c>Kcp</c>
    /// configuration section: <c>Kcp:Defaults</c> binds <see cref="KcpTransportOptions.Defaults"/>, and each
    /// <c>Kcp:Endpoints:&lt;name&gt;</c> (<c>Url = kcp://0.0.0.0:4000</c>, optional <c>Protocols</c>, any
    /// KCP setting over the defaults) becomes a KCP endpoint. The section is validated when the host
    /// starts: a bad key or value stops start-up with a message naming both.
    /// </summary>
    /// <param name="builder">The web host builder.</param>
    /// <param name="configure">Changes the transport's options after configuration is bound.</param>
    /// <returns>The builder.</returns>
    public static IWebHostBuilder UseKcp(this IWebHostBuilder builder, Action<KcpTransportOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.ConfigureServices((context, services) =>
        {
            var section = context.Configuration.GetSection(KcpConfiguration.SectionName);
            var optionsBuilder = services.AddOptions<KcpTransportOptions>();
            optionsBuilder.Configure(o => KcpConfiguration.BindSettings(section.GetSection(KcpConfiguration.DefaultsKey), o.Defaults));
            if (configure is not null)
            {
                optionsBuilder.Configure(configure);
            }

            optionsBuilder.ValidateOnStart();
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<KcpTransportOptions>>(new KcpConfigurationValidator(section)));
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<KestrelServerOptions>, KcpConfiguredEndpointsSetup>(
                sp => new KcpConfiguredEndpointsSetup(section, sp.GetService<ILoggerFactory>())));
            services.AddMetrics();

            // Each endpoint validates its own settings (defaults plus its ListenKcp callback) at bind.
            // Kestrel adds its sockets transport with TryAdd; make sure it is there whatever the
            // order of calls, so IP endpoints keep working beside KCP ones.
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IConnectionListenerFactory, SocketTransportFactory>());
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IConnectionListenerFactory, KcpConnectionListenerFactory>());
        });
    }
}
