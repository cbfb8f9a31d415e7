using KcpKestrel.Transport.UserTcp;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.AspNetCore.Hosting;

/// <summary>Adds the user-space TCP transport to a web host.</summary>
public static class UserTcpWebHostBuilderExtensions
{
    /// <summary>
    /// Registers the user-space TCP transport beside Kestrel's sockets transport: endpoints added with
    /// <c>ListenUserSpaceTcp</c> are served by the stack in this process over their TUN device, every other endpoint
    /// as before. Each endpoint's settings apply over <paramref name="configure"/>'s and are validated at bind: a bad
    /// value stops the start with a message naming the setting and what it accepts.
    /// </summary>
    /// <param name="builder">The web host builder.</param>
    /// <param name="configure">Changes the transport's default settings.</param>
    /// <returns>The builder.</returns>
    public static IWebHostBuilder UseUserSpaceTcp(this IWebHostBuilder builder, Action<UserTcpOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.ConfigureServices(services =>
        {
            var options = services.AddOptions<UserTcpOptions>();
            if (configure is not null)
            {
                options.Configure(configure);
            }

            services.AddMetrics();

            // Kestrel adds its sockets transport with TryAdd; make sure it is there whatever the order of calls, so
            // IP endpoints keep working beside these.
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IConnectionListenerFactory, SocketTransportFactory>());
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IConnectionListenerFactory, UserTcpConnectionListenerFactory>());
        });
    }
}
