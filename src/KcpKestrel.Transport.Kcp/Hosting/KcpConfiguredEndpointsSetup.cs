using KcpKestrel.Transport.Kcp.Diagnostics;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace KcpKestrel.Transport.Kcp.Hosting;

/// <summary>
/// Turns each <c>Kcp:Endpoints:&lt;name&gt;</c> into a <c>ListenKcp</c> endpoint of Kestrel, its
/// settings bound over the transport defaults when the endpoint binds. Bad entries are skipped here:
/// <see cref="KcpConfigurationValidator"/> fails start-up with their key and value first.
/// </summary>
internal sealed class KcpConfiguredEndpointsSetup(IConfiguration kcpSection, ILoggerFactory? loggerFactory) : IConfigureOptions<KestrelServerOptions>
{
    private readonly ILogger _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger(KcpLog.Category);

    public void Configure(KestrelServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        foreach (var endpoint in KcpConfiguration.GetEndpoints(kcpSection))
        {
            var url = endpoint.Section[KcpConfiguration.UrlKey];
            if (!KcpConfiguration.TryParseUrl(url, out var address, out var port))
            {
                continue;
            }

            var section = endpoint.Section;
            var protocols = section[KcpConfiguration.ProtocolsKey];
            KcpLog.ConfiguredEndpoint(_logger, endpoint.Name, url!);
            options.ListenKcp(
                address,
                port,
                kcp => KcpConfiguration.BindSettings(section, kcp),
                listen =>
                {
                    if (KcpConfiguration.TryParseProtocols(protocols, out var parsed))
                    {
                        listen.Protocols = parsed;
                    }
                });
        }
    }
}
