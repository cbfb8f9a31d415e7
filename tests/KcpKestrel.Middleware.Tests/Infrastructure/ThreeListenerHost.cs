using System.Net;
using KcpKestrel.Transport.Kcp;
using KcpKestrel.Transport.Kcp.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace KcpKestrel.Middleware.Tests.Infrastructure;

/// <summary>Which of the three listeners of a <see cref="ThreeListenerHost"/>.</summary>
public enum Listener
{
    Kcp,
    TunedTcp,
    Sockets,
}

/// <summary>
/// One Kestrel host with a KCP endpoint (UseKcp + ListenKcp), a tuned TCP endpoint (UseTunedTcp with
/// BindAllIPEndPoints = false + ListenTunedTcp) and a default sockets endpoint (Listen), all on loopback
/// port 0, each with the same middleware in front of <see cref="GreetingEchoHandler"/>.
/// </summary>
public sealed class ThreeListenerHost : IAsyncDisposable
{
    public static readonly Listener[] All = [Listener.Kcp, Listener.TunedTcp, Listener.Sockets];

    private readonly IHost _host;
    private readonly Dictionary<Listener, ListenOptions> _listeners;
    private readonly KcpConnectionFactory _kcpClient;

    private ThreeListenerHost(IHost host, Dictionary<Listener, ListenOptions> listeners)
    {
        _host = host;
        _listeners = listeners;
        _kcpClient = new KcpConnectionFactory(ClientOptions());
    }

    public IServiceProvider Services => _host.Services;

    public GreetingEchoHandler Handler => _host.Services.GetRequiredService<GreetingEchoHandler>();

    public IPEndPoint EndPoint(Listener listener) => _listeners[listener].EndPoint switch
    {
        KcpEndPoint kcp => kcp.IPEndPoint,
        IPEndPoint ip => ip,
        var other => throw new InvalidOperationException($"Unexpected endpoint {other}"),
    };

    /// <summary>The "endpoint" tag the middleware reports for a listener.</summary>
    public string EndpointTag(Listener listener) => _listeners[listener].EndPoint.ToString()!;

    public static async Task<ThreeListenerHost> StartAsync(
        Action<ListenOptions> middleware,
        Action<IServiceCollection>? services = null,
        Action<ILoggingBuilder>? logging = null)
    {
        var listeners = new Dictionary<Listener, ListenOptions>();
        var host = await KestrelTestHost.StartAsync(
            web => web
                .UseKestrel(o =>
                {
                    o.ListenKcp(IPAddress.Loopback, 0, ConfigureKcp, l => Add(Listener.Kcp, l));
                    o.ListenTunedTcp(IPAddress.Loopback, 0, l => Add(Listener.TunedTcp, l));
                    o.Listen(IPAddress.Loopback, 0, l => Add(Listener.Sockets, l));
                })
                .UseKcp()
                .UseTunedTcp(o =>
                {
                    o.BindAllIPEndPoints = false;
                    o.AcceptLoops = 1;
                    o.Backlog = 1024;
                })
                .ConfigureServices(s =>
                {
                    s.AddSingleton<GreetingEchoHandler>();
                    services?.Invoke(s);
                }),
            logging);
        return new ThreeListenerHost(host, listeners);

        void Add(Listener which, ListenOptions listen)
        {
            listeners[which] = listen;
            middleware(listen);
            listen.UseConnectionHandler<GreetingEchoHandler>();
        }
    }

    public static void ConfigureKcp(KcpOptions k)
    {
        k.Crypt = "none";
        k.Mode = KcpMode.Fast;
        k.SendWindow = 1024;
        k.ReceiveWindow = 1024;
        k.IoLoopCount = 1;
        k.NewSessionsPerSecond = 0;
    }

    public static KcpClientOptions ClientOptions()
    {
        var options = new KcpClientOptions
        {
            ConnectTimeout = TimeSpan.FromSeconds(5),
            ConnectRetries = 2,
            IoLoopCount = 1,
        };
        ConfigureKcp(options.Kcp);
        return options;
    }

    /// <summary>Opens a client connection to a listener (KCP through <see cref="KcpConnectionFactory"/>, TCP through a socket).</summary>
    public async Task<TestClient> ConnectAsync(Listener listener, CancellationToken cancellationToken = default)
    {
        if (listener == Listener.Kcp)
        {
            var connection = await _kcpClient.ConnectAsync(EndPoint(listener), cancellationToken);
            return TestClient.ForKcp(connection);
        }

        return await TestClient.ConnectTcpAsync(EndPoint(listener), cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await _kcpClient.DisposeAsync();
        await KestrelTestHost.StopAndDisposeAsync(_host, TimeSpan.FromSeconds(5));
    }
}
