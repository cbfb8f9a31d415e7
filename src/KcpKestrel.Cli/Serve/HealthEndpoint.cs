using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace KcpKestrel.Cli.Serve;

/// <summary>
/// serve's <c>--health</c> endpoint: plain HTTP/1.1 over TCP (Kestrel's sockets transport) answering only
/// <c>GET /healthz</c> with a <see cref="HealthSnapshot"/>, whatever the app.
/// </summary>
/// <remarks>
/// A Kestrel server of its own rather than one more endpoint of the app's: Kestrel unbinds all of a server's
/// endpoints at once when it stops, and a balancer that probes must keep getting 503 (not a refused
/// connection, which some read as "try again") through the drain delay and while the sessions drain.
/// serve stops this one after the app's server has stopped.
/// </remarks>
internal sealed class HealthEndpoint : IAsyncDisposable
{
    public const string Path = "/healthz";

    private readonly WebApplication _app;
    private readonly ListenOptions _listen;

    private HealthEndpoint(WebApplication app, ListenOptions listen)
    {
        _app = app;
        _listen = listen;
    }

    /// <summary>The bound endpoint (the real port when 0 was asked for).</summary>
    public IPEndPoint EndPoint => (IPEndPoint)_listen.EndPoint;

    /// <param name="endPoint">Where to listen.</param>
    /// <param name="read">Takes the snapshot each request answers with.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    public static async Task<HealthEndpoint> StartAsync(IPEndPoint endPoint, Func<CancellationToken, Task<HealthSnapshot>> read, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        ServeHost.LogWarningsToStandardError(builder);
        builder.WebHost.UseSockets();
        ListenOptions? listen = null;
        builder.WebHost.ConfigureKestrel(o => o.Listen(endPoint, l =>
        {
            l.Protocols = HttpProtocols.Http1;
            listen = l;
        }));

        var app = builder.Build();
        app.MapGet(Path, async (HttpContext context) =>
        {
            var snapshot = await read(context.RequestAborted).ConfigureAwait(false);
            context.Response.StatusCode = snapshot.HttpStatus;
            context.Response.ContentType = "application/json";
            context.Response.Headers.CacheControl = "no-store";
            await context.Response.WriteAsync(snapshot.ToJson(), context.RequestAborted).ConfigureAwait(false);
        });

        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return new HealthEndpoint(app, listen!);
    }

    public async ValueTask DisposeAsync()
    {
        // A probe in flight answers in microseconds; a kept-alive idle probe connection is closed at once.
        await _app.StopWithinAsync(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
