using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace PlaintextServer;

/// <summary>
/// TechEmpower-style plaintext app for comparing transports:
/// <c>PlaintextServer --transport default|tuned|iouring [--port 8080] [--loops N] [--defer-accept S]</c>.
/// </summary>
internal static class Program
{
    private static readonly byte[] Body = Encoding.ASCII.GetBytes("Hello, World!");

    public static async Task Main(string[] args)
    {
        var transport = Arg(args, "--transport", "default");
        var port = int.Parse(Arg(args, "--port", "8080"), CultureInfo.InvariantCulture);
        var loops = int.Parse(Arg(args, "--loops", Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);
        var deferAccept = int.Parse(Arg(args, "--defer-accept", "0"), CultureInfo.InvariantCulture);

        var host = new HostBuilder()
            .ConfigureLogging(logging => logging.ClearProviders())
            .ConfigureWebHost(web =>
            {
                web.UseKestrel(k => k.Listen(IPAddress.Loopback, port));
                if (transport is "tuned" or "iouring")
                {
                    web.UseTunedTcp(o =>
                    {
                        o.Engine = transport == "iouring" ? KcpKestrel.Transport.Tcp.TcpEngine.IoUring : KcpKestrel.Transport.Tcp.TcpEngine.Epoll;
                        o.AcceptLoops = loops;
                        o.DeferAcceptSeconds = deferAccept;
                        o.Backlog = 4096;
                    });
                }
                else if (transport != "default")
                {
                    throw new ArgumentException($"unknown transport {transport}", nameof(args));
                }

                web.Configure(app => app.Run(static ctx =>
                {
                    if (ctx.Request.Path != "/plaintext")
                    {
                        ctx.Response.StatusCode = StatusCodes.Status404NotFound;
                        return Task.CompletedTask;
                    }

                    ctx.Response.ContentType = "text/plain";
                    ctx.Response.ContentLength = Body.Length;
                    return ctx.Response.Body.WriteAsync(Body).AsTask();
                }));
            })
            .Build();

        await host.StartAsync();
        await Console.Out.WriteLineAsync($"listening on 127.0.0.1:{port} transport={transport} loops={loops} deferAccept={deferAccept}");
        await host.WaitForShutdownAsync();
    }

    private static string Arg(string[] args, string name, string fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    }
}
