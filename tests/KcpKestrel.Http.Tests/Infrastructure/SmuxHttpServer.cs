using System.Collections.Concurrent;
using System.Net;
using KcpKestrel.Transport.Kcp;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace KcpKestrel.Http.Tests.Infrastructure;

/// <summary>
/// A minimal API and the gRPC echo service on two KCP endpoints with smux (HTTP/1.1, HTTP/2), loopback, port 0. Every
/// stream's KCP conversation id is recorded, so tests count the KCP sessions their clients opened.
/// </summary>
public sealed class SmuxHttpServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<uint, int> _streamsPerConv = new();

    private SmuxHttpServer(WebApplication app) => _app = app;

    public KcpEndPoint Http1 { get; private set; } = null!;

    public KcpEndPoint Http2 { get; private set; } = null!;

    /// <summary>Released by the test: <c>/wait</c> answers once it is.</summary>
    public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Signalled when a request reaches <c>/wait</c>.</summary>
    public TaskCompletionSource Waiting { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Streams (connections) seen per KCP conversation id.</summary>
    public IReadOnlyDictionary<uint, int> StreamsPerConv => _streamsPerConv;

    public static KcpOptions CreateKcpOptions(KcpCompression compression)
    {
        var options = new KcpOptions();
        Configure(options, compression);
        return options;
    }

    public static async Task<SmuxHttpServer> StartAsync(KcpCompression compression)
    {
        ListenOptions? h1 = null;
        ListenOptions? h2 = null;
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.UseKcp();
        builder.Services.AddGrpc();
        SmuxHttpServer? server = null;
        builder.WebHost.ConfigureKestrel(o =>
        {
            o.ListenKcp(IPAddress.Loopback, 0, k => Configure(k, compression), l =>
            {
                l.Protocols = HttpProtocols.Http1;
                l.Use(next => context =>
                {
                    server!.Record(context.Features.Get<IKcpSessionFeature>());
                    return next(context);
                });
                h1 = l;
            });
            o.ListenKcp(IPAddress.Loopback, 0, k => Configure(k, compression), l =>
            {
                l.Protocols = HttpProtocols.Http2;
                l.Use(next => context =>
                {
                    server!.Record(context.Features.Get<IKcpSessionFeature>());
                    return next(context);
                });
                h2 = l;
            });
        });

        var app = builder.Build();
        server = new SmuxHttpServer(app);
        app.MapGet("/hello", () => "hello");
        app.MapGet("/wait", async () =>
        {
            server.Waiting.TrySetResult();
            await server.Release.Task;
            return "released";
        });
        app.MapGrpcService<EchoGrpcService>();
        await app.StartAsync().WaitAsync(TimeSpan.FromSeconds(30));
        server.Http1 = (KcpEndPoint)h1!.EndPoint;
        server.Http2 = (KcpEndPoint)h2!.EndPoint;
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        Release.TrySetResult();
        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5)))
        {
            await _app.StopAsync(cts.Token);
        }

        await _app.DisposeAsync();
    }

    private static void Configure(KcpOptions options, KcpCompression compression)
    {
        HttpTestServer.ConfigureKcp(options);
        options.Multiplexing = KcpMultiplexing.Smux;
        options.Compression = compression;
    }

    private void Record(IKcpSessionFeature? session)
    {
        Assert.NotNull(session);
        _streamsPerConv.AddOrUpdate(session.Conv, 1, static (_, count) => count + 1);
    }
}
