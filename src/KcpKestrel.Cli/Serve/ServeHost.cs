using System.Collections.Immutable;
using System.Net;
using KcpKestrel.Transport.Kcp;
using KcpKestrel.Transport.Kcp.Diagnostics;
using KcpKestrel.Transport.UserTcp;
using KcpKestrel.Transport.UserTcp.Listener;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace KcpKestrel.Cli.Serve;

/// <summary>The Kestrel host of <c>serve</c> (and of <c>demo</c>): the same app on a KCP, a TCP and a user-space TCP endpoint.</summary>
internal sealed class ServeHost : IAsyncDisposable
{
    public static readonly string[] AppNames = ["echo", "sink", "http", "grpc"];

    private readonly WebApplication _app;
    private readonly ListenOptions? _kcp;
    private readonly ListenOptions? _tcp;
    private readonly ListenOptions? _userTcp;
    private readonly ImmutableArray<UserTcpConnectionListener> _userTcpListeners;
    private readonly ImmutableArray<IKcpListenerState> _kcpListeners;
    private HealthEndpoint? _health;

    private ServeHost(WebApplication app, ListenOptions? kcp, ListenOptions? tcp, ListenOptions? userTcp, TcpServeOptions tcpOptions, string? instanceId)
    {
        _app = app;
        InstanceId = instanceId;
        _kcp = kcp;
        _tcp = tcp;
        _userTcp = userTcp;

        // Held from start: a listener leaves the factory's registry as it is disposed, but its
        // counters stay readable, so the totals can be read after the host has stopped.
        var listeners = ImmutableArray.CreateBuilder<IKcpListenerState>();
        var userTcpListeners = ImmutableArray.CreateBuilder<UserTcpConnectionListener>();
        foreach (var factory in app.Services.GetServices<IConnectionListenerFactory>())
        {
            if (factory is KcpConnectionListenerFactory kcpFactory)
            {
                listeners.AddRange(kcpFactory.Listeners.Listeners);
            }
            else if (factory is UserTcpConnectionListenerFactory userTcpFactory)
            {
                userTcpListeners.AddRange(userTcpFactory.Listeners);
            }
        }

        _kcpListeners = listeners.ToImmutable();
        _userTcpListeners = userTcpListeners.ToImmutable();
        TcpDescription = tcp is null ? null : tcpOptions.Describe(app.Services);
    }

    /// <summary>serve's <c>--instance-id</c> (ready line, stop report, health); null for demo's host.</summary>
    public string? InstanceId { get; }

    /// <summary>A drain has started (<see cref="BeginDrain"/> or a signal through the host's own lifetime).</summary>
    public bool Draining => _app.Lifetime.ApplicationStopping.IsCancellationRequested;

    /// <summary>The bound health endpoint; null without <c>--health</c>.</summary>
    public IPEndPoint? HealthEndPoint => _health?.EndPoint;

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

    /// <summary>KCP sessions open now (accepted or queued), over the KCP listeners.</summary>
    public int KcpSessions()
    {
        var total = 0;
        foreach (var listener in _kcpListeners)
        {
            total += listener.SessionCount;
        }

        return total;
    }

    /// <summary>What <c>GET /healthz</c> answers now.</summary>
    public async Task<HealthSnapshot> HealthAsync(CancellationToken cancellationToken)
    {
        var report = await _app.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(cancellationToken).ConfigureAwait(false);
        var counters = KcpCounters();
        return new HealthSnapshot(report.Status, InstanceId ?? string.Empty, Draining, KcpSessions(), counters.SessionsAccepted, counters.SessionsClosed);
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

    /// <summary>The user-space TCP endpoint's address and port (the stack's, on its TUN device).</summary>
    public IPEndPoint? UserTcpEndPoint => (_userTcp?.EndPoint as UserTcpEndPoint)?.IPEndPoint;

    /// <summary>The user-space TCP listeners (their loops' counters, readable after the host stopped).</summary>
    public ImmutableArray<UserTcpConnectionListener> UserTcpListeners => _userTcpListeners;

    /// <summary>The options the KCP endpoint was given (what the command line asked for, after <see cref="KcpOptions.CopyTo"/>).</summary>
    public KcpOptions? KcpOptions { get; private init; }

    /// <summary><c>listening kcp=A [tcp=B] [usertcp=U] [health=C] [instance=ID]</c>: kcp and tcp stay first, where scripts have always read them.</summary>
    public string ReadyLine =>
        "listening" + (KcpEndPoint is { } k ? $" kcp={k}" : string.Empty) + (TcpEndPoint is { } t ? $" tcp={t}" : string.Empty)
        + (UserTcpEndPoint is { } u ? $" usertcp={u}" : string.Empty)
        + (HealthEndPoint is { } h ? $" health={h}" : string.Empty) + (InstanceId is { } id ? $" instance={id}" : string.Empty);

    /// <summary>demo's host: no instance id, no health endpoint.</summary>
    public static Task<ServeHost> StartAsync(IPEndPoint? kcp, IPEndPoint? tcp, string app, KcpOptions kcpOptions, TcpServeOptions tcpOptions, CancellationToken cancellationToken) =>
        StartAsync(kcp, tcp, app, kcpOptions, tcpOptions, instanceId: null, health: null, userTcp: null, cancellationToken);

    /// <param name="kcp">The KCP endpoint.</param>
    /// <param name="tcp">The TCP endpoint of the same app; null for none.</param>
    /// <param name="app">One of <see cref="AppNames"/>.</param>
    /// <param name="kcpOptions">The KCP endpoint's options.</param>
    /// <param name="tcpOptions">The TCP transport.</param>
    /// <param name="instanceId">serve's instance id; null for none (demo).</param>
    /// <param name="health">Where to serve <c>GET /healthz</c> (its own server, see <see cref="HealthEndpoint"/>); null for none.</param>
    /// <param name="userTcp">The user-space TCP endpoint of the same app (its TUN device is created at start); null for none.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    public static async Task<ServeHost> StartAsync(
        IPEndPoint? kcp,
        IPEndPoint? tcp,
        string app,
        KcpOptions kcpOptions,
        TcpServeOptions tcpOptions,
        string? instanceId,
        IPEndPoint? health,
        UserTcpEndPoint? userTcp,
        CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        LogWarningsToStandardError(builder);

        // The health check service logs every Unhealthy result as an error: while draining that is each probe,
        // and /healthz (or the stop report) already says so.
        builder.Logging.AddFilter("Microsoft.Extensions.Diagnostics.HealthChecks", LogLevel.None);
        builder.Services.AddSingleton<EchoApp>();
        builder.Services.AddSingleton<SinkApp>();
        builder.Services.AddHealthChecks().AddKcp();
        if (app == "grpc")
        {
            GrpcEchoApp.AddTo(builder.Services);
        }

        builder.WebHost.UseKcp();
        tcpOptions.Apply(builder.WebHost);
        if (userTcp is not null)
        {
            builder.WebHost.UseUserSpaceTcp();

            // A start failure (no TUN device for this user, say) comes back from StartAsync and serve reports it in
            // one line; the host's own error log of it would add a stack trace.
            builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
        }

        ListenOptions? kcpListen = null;
        KcpOptions? kcpListenOptions = null;
        ListenOptions? tcpListen = null;
        ListenOptions? userTcpListen = null;
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

            if (userTcp is not null)
            {
                o.ListenUserSpaceTcp(userTcp, l =>
                {
                    userTcpListen = l;
                    UseApp(l, app);
                });
            }
        });

        var web = builder.Build();
        if (app == "http")
        {
            web.MapGet("/plaintext", () => Results.Text("Hello, World!", "text/plain"));
            web.MapHealthChecks("/healthz");
            TransferEndpoints.MapTo(web);
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

        var host = new ServeHost(web, kcpListen, tcpListen, userTcpListen, tcpOptions, instanceId) { KcpOptions = kcpListenOptions };
        if (health is not null)
        {
            try
            {
                host._health = await HealthEndpoint.StartAsync(health, host.HealthAsync, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                await host.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }

        return host;
    }

    /// <summary>serve's and the health endpoint's logging: warnings and worse, one line each, on stderr (stdout is for scripts).</summary>
    public static void LogWarningsToStandardError(WebApplicationBuilder builder)
    {
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        builder.Logging.AddFilter(level => level >= LogLevel.Warning);
        builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
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

    /// <summary>
    /// Starts a drain: fires the host's ApplicationStopping, so the KCP health check (and <c>/healthz</c>) turn
    /// unready at once while every endpoint keeps serving, old sessions and new.
    /// </summary>
    public void BeginDrain() => _app.Lifetime.StopApplication();

    /// <summary>
    /// The graceful stop of a signal: <see cref="BeginDrain"/>, serve on for <paramref name="delay"/> (probing
    /// balancers stop sending new clients), then stop Kestrel: its listeners unbind and it asks every
    /// connection to close (the echo and sink apps end their side, so each KCP session drains and sends its
    /// close signal); connections still open <paramref name="timeout"/> later are aborted.
    /// </summary>
    public async Task DrainAndStopAsync(TimeSpan delay, TimeSpan timeout)
    {
        BeginDrain();
        if (delay > TimeSpan.Zero)
        {
            await Task.Delay(delay).ConfigureAwait(false);
        }

        await StopAsync(timeout).ConfigureAwait(false);
    }

    public Task StopAsync(TimeSpan timeout) => _app.StopWithinAsync(timeout);

    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);

        // The health endpoint last: it answers 503 until the app's server has stopped.
        if (_health is not null)
        {
            await _health.DisposeAsync().ConfigureAwait(false);
        }

        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
