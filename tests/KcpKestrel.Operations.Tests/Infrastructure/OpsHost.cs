using System.Net;
using KcpKestrel.Transport.Kcp;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace KcpKestrel.Operations.Tests.Infrastructure;

/// <summary>A real Kestrel host with UseKcp, optional in-memory configuration and an optional code KCP echo endpoint.</summary>
public sealed class OpsHost : IAsyncDisposable
{
    public const string Key = "ops-secret";

    private readonly IHost _host;
    private readonly ListenOptions? _kcp;

    private OpsHost(IHost host, ListenOptions? kcp)
    {
        _host = host;
        _kcp = kcp;
    }

    public KcpEndPoint KcpEndPoint => (KcpEndPoint)_kcp!.EndPoint;

    public IServiceProvider Services => _host.Services;

    public static IHost Build(
        IDictionary<string, string?>? configuration,
        Action<KcpOptions>? echoEndpoint,
        Action<ListenOptions>? captured,
        Action<IServiceCollection>? services = null,
        Action<ILoggingBuilder>? logging = null) =>
        KestrelTestHost.Build(
            web => Configure(web, echoEndpoint, captured, services),
            logging,
            c => c.AddInMemoryCollection(configuration ?? new Dictionary<string, string?>()));

    public static async Task<OpsHost> StartEchoAsync(Action<KcpOptions>? configureKcp = null, Action<IServiceCollection>? services = null, Action<ILoggingBuilder>? logging = null)
    {
        ListenOptions? kcp = null;
        var host = await KestrelTestHost.StartAsync(
            web => Configure(
                web,
                k =>
                {
                    k.Crypt = "aes";
                    k.Key = Key;
                    k.IoLoopCount = 1;
                    configureKcp?.Invoke(k);
                },
                l => kcp = l,
                services),
            logging);
        return new OpsHost(host, kcp);
    }

    public static async Task<OpsHost> StartConfiguredAsync(IDictionary<string, string?> configuration)
    {
        var host = await KestrelTestHost.StartAsync(
            web => Configure(web, null, null, null),
            configuration: c => c.AddInMemoryCollection(configuration));
        return new OpsHost(host, null);
    }

    public ValueTask DisposeAsync() => new(KestrelTestHost.StopAndDisposeAsync(_host, TimeSpan.FromSeconds(10)));

    private static void Configure(IWebHostBuilder web, Action<KcpOptions>? echoEndpoint, Action<ListenOptions>? captured, Action<IServiceCollection>? services) => web
        .UseKestrel(o =>
        {
            if (echoEndpoint is not null)
            {
                o.ListenKcp(IPAddress.Loopback, 0, echoEndpoint, l =>
                {
                    captured?.Invoke(l);
                    l.UseConnectionHandler<EchoConnectionHandler>();
                });
            }
        })
        .UseKcp()
        .ConfigureServices(s =>
        {
            s.AddSingleton<EchoConnectionHandler>();
            s.AddHealthChecks().AddKcp();
            services?.Invoke(s);
        });
}
