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
/// <c>PlaintextServer --transport default|tuned|iouring [--port 8080] [--loops N] [--defer-accept S]
/// [--fastopen N] [--backlog N] [--ioqueues N] [--wait-for-data 0|1] [--inline 0|1]
/// [--architecture sharding|reactor] [--workers N] [--affinity 0|1] [--sqpoll 0|1] [--zerocopy BYTES]</c>. The four before
/// <c>--zerocopy</c> pick the io_uring engine's architecture and options (<c>--workers</c> is <c>--loops</c> by its io_uring name);
/// GET /large answers with a 1 MiB body (the large-response case, e.g. for zero-copy send: <c>--zerocopy</c> sets the io_uring
/// engine's ZeroCopySendThreshold). The last three set the per-connection socket options
/// (Kestrel's <c>SocketTransportOptions</c> for <c>default</c>) for one-knob A/B runs; unset, each transport keeps
/// its own defaults. An unknown transport exits with code 2, which
/// benchmarks/compare/tcp/run.sh reads as "variant not available".
/// </summary>
internal static class Program
{
    private static readonly byte[] Body = Encoding.ASCII.GetBytes("Hello, World!");
    private static readonly byte[] LargeBody = new byte[1 << 20];

    public static async Task<int> Main(string[] args)
    {
        var transport = Arg(args, "--transport", "default");
        var port = int.Parse(Arg(args, "--port", "8080"), CultureInfo.InvariantCulture);
        var loops = int.Parse(Arg(args, "--workers", Arg(args, "--loops", Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture))), CultureInfo.InvariantCulture);
        var architecture = Arg(args, "--architecture", "sharding");
        var affinity = OptionalInt(args, "--affinity") is > 0;
        var sqPoll = OptionalInt(args, "--sqpoll") is > 0;
        var deferAccept = OptionalInt(args, "--defer-accept");
        var ioQueues = OptionalInt(args, "--ioqueues");
        var waitForData = OptionalInt(args, "--wait-for-data");
        var inline = OptionalInt(args, "--inline");
        var fastOpen = OptionalInt(args, "--fastopen");
        var backlog = OptionalInt(args, "--backlog");
        var zeroCopy = OptionalInt(args, "--zerocopy");

        if (transport is not ("default" or "tuned" or "iouring"))
        {
            await Console.Error.WriteLineAsync($"unknown transport {transport}");
            return 2;
        }

        if (architecture is not ("sharding" or "reactor"))
        {
            await Console.Error.WriteLineAsync($"unknown architecture {architecture}");
            return 2;
        }

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
                        o.DeferAcceptSeconds = deferAccept ?? o.DeferAcceptSeconds;
                        o.Backlog = backlog ?? 4096;
                        o.FastOpenQueueLength = fastOpen ?? o.FastOpenQueueLength;
                        o.Architecture = architecture == "reactor" ? KcpKestrel.Transport.Tcp.IoUringArchitecture.Reactor : KcpKestrel.Transport.Tcp.IoUringArchitecture.SocketSharding;
                        o.CpuAffinity = affinity;
                        o.SqPoll = sqPoll;
                        o.ZeroCopySendThreshold = zeroCopy ?? o.ZeroCopySendThreshold;
                    });
                }
                else if (ioQueues is not null || waitForData is not null || inline is not null)
                {
                    web.UseSockets(o =>
                    {
                        o.IOQueueCount = ioQueues ?? o.IOQueueCount;
                        o.WaitForDataBeforeAllocatingBuffer = waitForData is null ? o.WaitForDataBeforeAllocatingBuffer : waitForData != 0;
                        o.UnsafePreferInlineScheduling = inline is null ? o.UnsafePreferInlineScheduling : inline != 0;
                    });
                }

                web.Configure(app => app.Run(static ctx =>
                {
                    if (ctx.Request.Path == "/large")
                    {
                        ctx.Response.ContentType = "application/octet-stream";
                        ctx.Response.ContentLength = LargeBody.Length;
                        return ctx.Response.Body.WriteAsync(LargeBody).AsTask();
                    }

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
        await Console.Out.WriteLineAsync($"listening on 127.0.0.1:{port} transport={transport} loops={loops} architecture={architecture} affinity={affinity} sqpoll={sqPoll} deferAccept={deferAccept?.ToString(CultureInfo.InvariantCulture) ?? "default"}");
        await host.WaitForShutdownAsync();
        return 0;
    }

    private static string Arg(string[] args, string name, string fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    }

    private static int? OptionalInt(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : null;
    }
}
