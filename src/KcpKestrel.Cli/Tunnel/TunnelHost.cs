using System.Net;
using KcpKestrel.Transport.Kcp;
using KcpKestrel.Transport.Kcp.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace KcpKestrel.Cli.Tunnel;

/// <summary>
/// The Kestrel host of a tunnel. Server: a KCP endpoint with smux (each stream a connection) whose handler dials the
/// target. Client: a TCP endpoint whose handler opens a stream on the pooled KCP sessions to the server.
/// </summary>
internal sealed class TunnelHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ListenOptions _listen;
    private readonly KcpConnectionFactory? _owned;

    private TunnelHost(WebApplication app, ListenOptions listen, KcpConnectionFactory? owned)
    {
        _app = app;
        _listen = listen;
        _owned = owned;
    }

    /// <summary>The bound address (the real port when 0 was asked for).</summary>
    public EndPoint? EndPoint => _listen.EndPoint is KcpEndPoint kcp ? kcp.IPEndPoint : _listen.EndPoint;

    public static Task<TunnelHost> StartServerAsync(KcpEndPoint listen, TunnelTarget target, KcpOptions options, TunnelLog log, CancellationToken cancellationToken)
    {
        var builder = CreateBuilder();
        builder.WebHost.UseKcp();
        builder.Services.AddSingleton(target);
        builder.Services.AddSingleton(log);
        builder.Services.AddSingleton<TunnelServerHandler>();
        ListenOptions? listenOptions = null;
        // A port range (kcptun's --listen IP:min-max) binds every port of it, each stream of each a connection.
        builder.WebHost.ConfigureKestrel(o => o.Listen(
            listen.PortCount == 1
                ? new KcpEndPoint(listen.IPEndPoint) { Configure = options.CopyTo }
                : new KcpEndPoint(listen.IPEndPoint.Address, listen.IPEndPoint.Port, listen.MaxPort) { Configure = options.CopyTo },
            l =>
        {
            listenOptions = l;
            l.UseConnectionHandler<TunnelServerHandler>();
        }));
        return StartAsync(builder, () => listenOptions!, null, cancellationToken);
    }

    public static Task<TunnelHost> StartClientAsync(IPEndPoint local, KcpEndPoint remote, KcpClientOptions options, TunnelLog log, CancellationToken cancellationToken)
    {
        var builder = CreateBuilder();
        var streams = new KcpConnectionFactory(options);
        builder.Services.AddSingleton(new TunnelClientHandler(streams, remote, log));
        ListenOptions? listenOptions = null;
        builder.WebHost.ConfigureKestrel(o => o.Listen(local, l =>
        {
            listenOptions = l;
            l.UseConnectionHandler<TunnelClientHandler>();
        }));
        return StartAsync(builder, () => listenOptions!, streams, cancellationToken);
    }

    private static WebApplicationBuilder CreateBuilder()
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        builder.Logging.AddFilter(level => level >= LogLevel.Warning);
        builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);

        // A tunnel carries whatever the streams carry for as long as they last: no Kestrel connection limits apply.
        builder.WebHost.ConfigureKestrel(o => o.Limits.KeepAliveTimeout = Timeout.InfiniteTimeSpan);
        return builder;
    }

    private static async Task<TunnelHost> StartAsync(WebApplicationBuilder builder, Func<ListenOptions> listen, KcpConnectionFactory? owned, CancellationToken cancellationToken)
    {
        var app = builder.Build();
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            if (owned is not null)
            {
                await owned.DisposeAsync().ConfigureAwait(false);
            }

            throw;
        }

        return new TunnelHost(app, listen(), owned);
    }

    /// <summary>Stops accepting, gives open streams <paramref name="timeout"/> to finish, then aborts them.</summary>
    public Task StopAsync(TimeSpan timeout) => _app.StopWithinAsync(timeout);

    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        if (_owned is not null)
        {
            await _owned.DisposeAsync().ConfigureAwait(false);
        }
    }
}
