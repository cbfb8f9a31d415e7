using System.Collections.Immutable;
using System.Net;
using KcpKestrel.Transport.Kcp;
using KcpKestrel.Transport.Kcp.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace KcpKestrel.Cli.Serve;

/// <summary>The Kestrel host of <c>serve</c> (and of <c>demo</c>): the same app on a KCP and a TCP endpoint.</summary>
internal sealed class ServeHost : IAsyncDisposable
{
    public static readonly string[] AppNames = ["echo", "sink", "http", "grpc"];

    private readonly WebApplication _app;
    private readonly ListenOptions? _kcp;
    private readonly ListenOptions? _tcp;
    private readonly ImmutableArray<IKcpListenerState> _kcpListeners;

    private ServeHost(WebApplication app, ListenOptions? kcp, ListenOptions? tcp, TcpServeOptions tcpOptions)
    {
        _app = app;
        _kcp = kcp;
        _tcp = tcp;

        // Held from start: a listener leaves the factory's registry as it is disposed, but its
        // counters stay readable, so the totals can be read after the host has stopped.
        var listeners = ImmutableArray.CreateBuilder<IKcpListenerState>();
        foreach (var factory in app.Services.GetServices<IConnectionListenerFactory>())
        {
            if (factory is KcpConnectionListenerFactory kcpFactory)
            {
                listeners.AddRange(kcpFactory.Listeners.Listeners);
            }
        }

        _kcpListeners = listeners.ToImmutable();
        TcpDescription = tcp is null ? null : tcpOptions.Describe(app.Services);
    }

    /// <summary>Which TCP transport serves the TCP endpoint after any fallback (e.g. <c>tcp engine=iouring architecture=reactor ...</c>); null without one.</summary>
    public string? TcpDescription { get; }

    /// <summary>The KCP listeners' counters, summed (figures a moment old while running; final after <see cref="StopAsync"/>).</summary>
    public KcpTransportCounters KcpCounters()
    {
        var total = new KcpTransportCounters();
        foreach (var listener in _kcpListeners)
        {
            total.Add(listener.Counters);
        }

        return total;
    }

    /// <summary>The smux figures of the KCP listeners, summed (zeros without <c>--smux</c>).</summary>
    public SmuxTotals SmuxTotals()
    {
        var total = default(SmuxTotals);
        foreach (var listener in _kcpListeners)
        {
            if (listener.Diagnostics.Smux is { } smux)
            {
                total = new SmuxTotals(
                    total.Sessions + smux.SessionsOpened,
                    total.StreamsAccepted + smux.StreamsAccepted,
                    total.ProtocolErrors + smux.GetErrors().ProtocolErrors);
            }
        }

        return total;
    }

    /// <summary>The bound KCP endpoint (the real port when 0 was asked for).</summary>
    public IPEndPoint? KcpEndPoint => (_kcp?.EndPoint as KcpEndPoint)?.IPEndPoint;

    /// <summary>The bound TCP endpoint.</summary>
    public IPEndPoint? TcpEndPoint => _tcp?.EndPoint as IPEndPoint;

    /// <summary>The options the KCP endpoint was given (what the command line asked for, after <see cref="KcpOptions.CopyTo"/>).</summary>
    public KcpOptions? KcpOptions { get; private init; }

    public string ReadyLine =>
        "listening" + (KcpEndPoint is { } k ? $" kcp={k}" : string.Empty) + (TcpEndPoint is { } t ? $" tcp={t}" : string.Empty);

    public static async Task<ServeHost> StartAsync(IPEndPoint? kcp, IPEndPoint? tcp, string app, KcpOptions kcpOptions, TcpServeOptions tcpOptions, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        builder.Logging.AddFilter(level => level >= LogLevel.Warning);
        builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Services.AddSingleton<EchoApp>();
        builder.Services.AddSingleton<SinkApp>();
        builder.Services.AddHealthChecks().AddKcp();
        if (app == "grpc")
        {
            GrpcEchoApp.AddTo(builder.Services);
        }

        builder.WebHost.UseKcp();
        tcpOptions.Apply(builder.WebHost);

        ListenOptions? kcpListen = null;
        KcpOptions? kcpListenOptions = null;
        ListenOptions? tcpListen = null;
        builder.WebHost.ConfigureKestrel(o =>
        {
            o.Limits.MaxRequestBodySize = null;
            if (kcp is not null)
            {
                o.ListenKcp(kcp.Address, kcp.Port, k => { kcpOptions.CopyTo(k); kcpListenOptions = k; }, l =>
                {
                    kcpListen = l;
                    UseApp(l, app);
                });
            }

            if (tcp is not null)
            {
                o.Listen(tcp, l =>
                {
                    tcpListen = l;
                    UseApp(l, app);
                });
            }
        });

        var web = builder.Build();
        if (app == "http")
        {
            web.MapGet("/plaintext", () => Results.Text("Hello, World!", "text/plain"));
            web.MapHealthChecks("/healthz");
            web.MapPost("/echo", static async (HttpContext context) =>
            {
                context.Response.ContentType = context.Request.ContentType ?? "application/octet-stream";
                await context.Request.Body.CopyToAsync(context.Response.Body, context.RequestAborted).ConfigureAwait(false);
            });
        }

        if (app == "grpc")
        {
            GrpcEchoApp.MapTo(web);
        }

        try
        {
            await web.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // A port in use, say: release whatever did bind before reporting it.
            await web.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return new ServeHost(web, kcpListen, tcpListen, tcpOptions) { KcpOptions = kcpListenOptions };
    }

    private static void UseApp(ListenOptions listen, string app)
    {
        switch (app)
        {
            case "echo":
                listen.UseConnectionHandler<EchoApp>();
                break;
            case "sink":
                listen.UseConnectionHandler<SinkApp>();
                break;
            case "grpc":
                // gRPC without TLS: HTTP/2 with prior knowledge (h2c), as GrpcChannel speaks to an http:// address.
                listen.Protocols = HttpProtocols.Http2;
                break;
            default:
                listen.Protocols = HttpProtocols.Http1;
                break;
        }
    }

    public Task StopAsync(TimeSpan timeout) => _app.StopWithinAsync(timeout);

    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
