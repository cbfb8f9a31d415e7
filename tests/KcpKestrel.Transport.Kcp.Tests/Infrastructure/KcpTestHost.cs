using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace KcpKestrel.Transport.Kcp.Tests.Infrastructure;

/// <summary>A real Kestrel host with a KCP endpoint and a plain TCP endpoint, both on loopback port 0.</summary>
public sealed class KcpTestHost : IAsyncDisposable
{
    private readonly IHost _host;
    private readonly ListenOptions _kcp;
    private readonly ListenOptions _tcp;

    private KcpTestHost(IHost host, ListenOptions kcp, ListenOptions tcp)
    {
        _host = host;
        _kcp = kcp;
        _tcp = tcp;
    }

    public KcpEndPoint KcpEndPoint => (KcpEndPoint)_kcp.EndPoint;

    public IPEndPoint TcpEndPoint => (IPEndPoint)_tcp.EndPoint;

    public IServiceProvider Services => _host.Services;

    public static async Task<KcpTestHost> StartAsync<THandler>(Action<KcpOptions>? configureKcp = null, Action<IServiceCollection>? services = null, int kcpPort = 0)
        where THandler : ConnectionHandler
    {
        ListenOptions? kcp = null;
        ListenOptions? tcp = null;
        var host = await KestrelTestHost.StartAsync(web => web
            .UseKestrel(o =>
            {
                o.ListenKcp(IPAddress.Loopback, kcpPort, k =>
                {
                    k.Crypt = "aes";
                    k.Key = "test-secret";
                    k.IoLoopCount = 2;
                    configureKcp?.Invoke(k);
                }, l =>
                {
                    kcp = l;
                    l.UseConnectionHandler<THandler>();
                });
                o.Listen(IPAddress.Loopback, 0, l =>
                {
                    tcp = l;
                    l.UseConnectionHandler<THandler>();
                });
            })
            .UseKcp()
            .ConfigureServices(s =>
            {
                s.AddSingleton<THandler>();
                services?.Invoke(s);
            }));
        return new KcpTestHost(host, kcp!, tcp!);
    }

    public static KcpClientOptionsBuilder Client(Action<KcpOptions>? configure = null) => new(configure);

    public async Task StopAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _host.StopAsync(cts.Token);
    }

    public ValueTask DisposeAsync() => new(KestrelTestHost.StopAndDisposeAsync(_host, TimeSpan.FromSeconds(5)));
}
