using System.Net;
using KcpKestrel.Transport.Kcp;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace KcpKestrel.Http.Tests.Infrastructure;

/// <summary>
/// One ASP.NET Core app (minimal API + gRPC + a custom protocol) listening on KCP and TCP, loopback,
/// port 0: KCP HTTP/1.1, KCP HTTP/2 prior knowledge, KCP HTTPS (ALPN), TCP HTTP/1.1, TCP HTTP/2,
/// and the length-prefixed protocol on KCP and TCP.
/// </summary>
public sealed class HttpTestServer : IAsyncDisposable
{
    public const string Key = "http-test-secret";

    private readonly WebApplication _app;
    private readonly Dictionary<string, ListenOptions> _endpoints;

    private HttpTestServer(WebApplication app, Dictionary<string, ListenOptions> endpoints)
    {
        _app = app;
        _endpoints = endpoints;
    }

    public KcpEndPoint KcpHttp1 => (KcpEndPoint)_endpoints["kcp-h1"].EndPoint;

    public KcpEndPoint KcpHttp2 => (KcpEndPoint)_endpoints["kcp-h2"].EndPoint;

    public KcpEndPoint KcpHttps => (KcpEndPoint)_endpoints["kcp-tls"].EndPoint;

    public KcpEndPoint KcpFramed => (KcpEndPoint)_endpoints["kcp-framed"].EndPoint;

    public IPEndPoint TcpHttp1 => (IPEndPoint)_endpoints["tcp-h1"].EndPoint;

    public IPEndPoint TcpHttp2 => (IPEndPoint)_endpoints["tcp-h2"].EndPoint;

    public IPEndPoint TcpFramed => (IPEndPoint)_endpoints["tcp-framed"].EndPoint;

    /// <summary>Signalled when a request reaches <c>/slow</c> or <c>/hang</c>.</summary>
    public TaskCompletionSource RequestArrived { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public static void ConfigureKcp(KcpOptions k)
    {
        k.Crypt = "aes";
        k.Key = Key;
        k.IoLoopCount = 1;
    }

    public static async Task<HttpTestServer> StartAsync()
    {
        var endpoints = new Dictionary<string, ListenOptions>();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.UseKcp();
        builder.WebHost.ConfigureKestrel(o =>
        {
            o.ListenKcp(IPAddress.Loopback, 0, ConfigureKcp, l =>
            {
                l.Protocols = HttpProtocols.Http1;
                endpoints["kcp-h1"] = l;
            });
            o.ListenKcp(IPAddress.Loopback, 0, ConfigureKcp, l =>
            {
                l.Protocols = HttpProtocols.Http2;
                endpoints["kcp-h2"] = l;
            });
            o.ListenKcp(IPAddress.Loopback, 0, ConfigureKcp, l =>
            {
                l.Protocols = HttpProtocols.Http1AndHttp2;
                l.UseHttps(TestCertificate.Instance);
                endpoints["kcp-tls"] = l;
            });
            o.ListenKcp(IPAddress.Loopback, 0, ConfigureKcp, l =>
            {
                l.UseConnectionHandler<LengthPrefixedEchoHandler>();
                endpoints["kcp-framed"] = l;
            });
            o.Listen(IPAddress.Loopback, 0, l =>
            {
                l.Protocols = HttpProtocols.Http1;
                endpoints["tcp-h1"] = l;
            });
            o.Listen(IPAddress.Loopback, 0, l =>
            {
                l.Protocols = HttpProtocols.Http2;
                endpoints["tcp-h2"] = l;
            });
            o.Listen(IPAddress.Loopback, 0, l =>
            {
                l.UseConnectionHandler<LengthPrefixedEchoHandler>();
                endpoints["tcp-framed"] = l;
            });
            o.Limits.MaxRequestBodySize = 64 << 20;
        });
        builder.Services.AddSingleton<LengthPrefixedEchoHandler>();
        builder.Services.AddGrpc(g => g.MaxReceiveMessageSize = 4 << 20);

        var app = builder.Build();
        var server = new HttpTestServer(app, endpoints);
        app.MapGet("/hello", () => "hello");
        app.MapPost("/echo", EchoAsync);
        app.MapGet("/slow", async (int ms) =>
        {
            server.RequestArrived.TrySetResult();
            await Task.Delay(ms);
            return "done";
        });
        app.MapGet("/hang", async (HttpContext context) =>
        {
            server.RequestArrived.TrySetResult();
            await Task.Delay(Timeout.Infinite, context.RequestAborted);
        });
        app.MapGrpcService<EchoGrpcService>();
        await app.StartAsync().WaitAsync(TimeSpan.FromSeconds(30));
        return server;
    }

    /// <summary>Stops gracefully: requests in flight may finish until <paramref name="drain"/> runs out, then are aborted.</summary>
    public async Task StopAsync(TimeSpan drain)
    {
        using var cts = new CancellationTokenSource(drain);
        await _app.StopAsync(cts.Token);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync(TimeSpan.FromSeconds(5));
        }
        finally
        {
            await _app.DisposeAsync();
        }
    }

    // Reads the whole body before answering: an HTTP/1.1 client sends all of it before it reads.
    private static async Task EchoAsync(HttpContext context)
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body, context.RequestAborted);
        context.Response.ContentType = "application/octet-stream";
        context.Response.ContentLength = body.Length;
        await context.Response.Body.WriteAsync(body.GetBuffer().AsMemory(0, (int)body.Length), context.RequestAborted);
    }
}
