using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MiddlewareServer;

/// <summary>
/// TechEmpower-style plaintext app on Kestrel's sockets listener, with or without the whole connection
/// middleware set: <c>MiddlewareServer --middleware on|off [--port 8080]</c>.
/// </summary>
internal static class Program
{
    private static readonly byte[] Body = Encoding.ASCII.GetBytes("Hello, World!");

    public static async Task Main(string[] args)
    {
        var middleware = Arg(args, "--middleware", "off") == "on";
        var port = int.Parse(Arg(args, "--port", "8080"), CultureInfo.InvariantCulture);

        var host = new HostBuilder()
            .ConfigureLogging(logging => logging.ClearProviders())
            .ConfigureWebHost(web =>
            {
                web.UseKestrel(k => k.Listen(IPAddress.Loopback, port, listen =>
                {
                    if (middleware)
                    {
                        // Every piece on, with limits the benchmark never reaches: the figure is the cost of the checks and pipe wrappers.
                        var pieces = Arg(args, "--pieces", "logging,metrics,filter,limits,timeouts");
                        if (pieces.Contains("logging", StringComparison.Ordinal))
                        {
                            listen.UseConnectionLifetimeLogging();
                        }

                        if (pieces.Contains("metrics", StringComparison.Ordinal))
                        {
                            listen.UseConnectionMetrics();
                        }

                        if (pieces.Contains("filter", StringComparison.Ordinal))
                        {
                            listen.UseAddressFilter(o =>
                            {
                                o.Allow.Add("127.0.0.0/8");
                                o.Deny.Add("192.0.2.0/24");
                            });
                        }

                        if (pieces.Contains("limits", StringComparison.Ordinal))
                        {
                            listen.UseConnectionRateLimiter(o =>
                            {
                                o.NewConnectionLimit = 100_000;
                                o.ConcurrentConnectionLimit = 10_000;
                                o.BandwidthLimit = 1L << 30;
                            });
                        }

                        if (pieces.Contains("timeouts", StringComparison.Ordinal))
                        {
                            listen.UseConnectionTimeouts(o =>
                            {
                                o.IdleTimeout = TimeSpan.FromMinutes(1);
                                o.MaxLifetime = TimeSpan.FromHours(1);
                            });
                        }
                    }
                }));
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
        await Console.Out.WriteLineAsync($"listening on 127.0.0.1:{port} middleware={middleware}");
        await host.WaitForShutdownAsync();
    }

    private static string Arg(string[] args, string name, string fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    }
}
