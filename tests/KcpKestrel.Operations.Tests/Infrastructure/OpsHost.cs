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
        new HostBuilder()
            .ConfigureAppConfiguration(c => c.AddInMemoryCollection(configuration ?? new Dictionary<string, string?>()))
            .ConfigureLogging(l =>
            {
                l.SetMinimumLevel(LogLevel.Warning);
                logging?.Invoke(l);
            })
            .ConfigureWebHost(web => web
                .UseKestrel(o =>
                {
                    if (echoEndpoint is not null)
                    {
                        o.ListenKcp(IPAddress.Loopback, 0, echoEndpoint, l =>
                        {
                            captured?.Invoke(l);
                            l.UseConnectionHandler<EchoHandler>();
                        });
                    }
                })
                .UseKcp()
                .ConfigureServices(s =>
                {
                    s.AddSingleton<EchoHandler>();
                    s.AddHealthChecks().AddKcp();
                    services?.Invoke(s);
                })
                .Configure(_ => { }))
            .Build();

    public static async Task<OpsHost> StartEchoAsync(Action<KcpOptions>? configureKcp = null, Action<IServiceCollection>? services = null, Action<ILoggingBuilder>? logging = null)
    {
        ListenOptions? kcp = null;
        var host = Build(
            null,
            k =>
            {
                k.Crypt = "aes";
                k.Key = Key;
                k.IoLoopCount = 1;
                configureKcp?.Invoke(k);
            },
            l => kcp = l,
            services,
            logging);
        await host.StartAsync().WaitAsync(TimeSpan.FromSeconds(30));
        return new OpsHost(host, kcp);
    }

    public static async Task<OpsHost> StartConfiguredAsync(IDictionary<string, string?> configuration)
    {
        var host = Build(configuration, null, null);
        try
        {
            await host.StartAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch
        {
            host.Dispose();
            throw;
        }

        return new OpsHost(host, null);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _host.StopAsync(cts.Token);
        }
        finally
        {
            _host.Dispose();
        }
    }

    /// <summary>Writes back every byte it reads.</summary>
    public sealed class EchoHandler : ConnectionHandler
    {
        public override async Task OnConnectedAsync(ConnectionContext connection)
        {
            try
            {
                await connection.Transport.Input.CopyToAsync(connection.Transport.Output, connection.ConnectionClosed);
            }
            catch (OperationCanceledException)
            {
                // The connection closed under the copy.
            }

            await connection.Transport.Output.CompleteAsync();
        }
    }
}
