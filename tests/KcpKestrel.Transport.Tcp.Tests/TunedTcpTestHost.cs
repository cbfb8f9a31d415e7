using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using KcpKestrel.Transport.Tcp.IoUring;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace KcpKestrel.Transport.Tcp.Tests;

/// <summary>Starts a real Kestrel host with the tuned TCP listener registered.</summary>
internal static class TunedTcpTestHost
{
    internal static readonly TimeSpan Bound = TestWaits.Bound;

    internal static async Task<IHost> StartAsync(
        Action<TunedTcpOptions> tune,
        Action<KestrelServerOptions> kestrel,
        RequestDelegate? app = null,
        TimeSpan? shutdownTimeout = null)
    {
        var host = await KestrelTestHost.StartAsync(web => web
            .UseKestrel(kestrel)
            .UseTunedTcp(tune)
            .ConfigureServices(services => services.Configure<HostOptions>(o => o.ShutdownTimeout = shutdownTimeout ?? TimeSpan.FromSeconds(5)))
            .Configure(builder => builder.Run(app ?? (static ctx => { ctx.Response.ContentLength = 2; return ctx.Response.WriteAsync("ok"); }))));
        return host;
    }

    internal static TunedTcpConnectionListenerFactory Factory(IHost host) =>
        host.Services.GetServices<IConnectionListenerFactory>().OfType<TunedTcpConnectionListenerFactory>().Single();

    internal static TunedTcpConnectionListener Listener(IHost host) => Factory(host).Listeners.Single();

    internal static EndPoint EndPoint(IHost host) => Uring(host)?.EndPoint ?? Listener(host).EndPoint;

    internal static int Port(IHost host) => ((IPEndPoint)EndPoint(host)).Port;

    /// <summary>Connections accepted by the host's one listener, whichever engine it runs.</summary>
    internal static long Accepted(IHost host) => Uring(host)?.Accepted ?? Listener(host).Accepted;

    /// <summary>The host's one listener's accept loops (epoll) or workers (io_uring), each with its SO_REUSEPORT socket.</summary>
    internal static int LoopCount(IHost host) => Uring(host)?.Workers.Count ?? Listener(host).LoopCount;

    /// <summary>Connections accepted by each loop or worker.</summary>
    internal static long[] AcceptedPerLoop(IHost host) => Uring(host)?.Workers.Select(w => w.Accepted).ToArray() ?? Listener(host).GetAcceptedPerLoop();

    internal static long RejectedOverLimit(IHost host) => Uring(host)?.RejectedOverLimit ?? Listener(host).RejectedOverLimit;

    internal static IReadOnlyList<Socket> ListeningSockets(IHost host) =>
        Uring(host)?.ListeningSockets ?? [.. Enumerable.Range(0, Listener(host).LoopCount).Select(Listener(host).ListeningSocket)];

    /// <summary>
    /// The accepted socket under <paramref name="connection"/>: Kestrel's socket feature (epoll engine), or a view of the
    /// io_uring connection's descriptor (that engine has no <see cref="Socket"/> object); for reading options only.
    /// </summary>
    internal static Socket SocketOf(ConnectionContext connection) =>
        connection is IoUringTcpConnection uring
            ? new Socket(new SafeSocketHandle(uring.Fd, ownsHandle: false))
            : connection.Features.Get<IConnectionSocketFeature>()!.Socket;

    private static IoUringTcpConnectionListener? Uring(IHost host) => Factory(host).IoUringListeners.SingleOrDefault();

    /// <summary>Sends one HTTP/1.1 request on a fresh connection and returns the whole response text.</summary>
    internal static async Task<string> RawGetAsync(int port, string path = "/")
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, port).WaitAsync(Bound);
        await socket.SendAsync(Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"));
        return await ReadToEndAsync(socket);
    }

    internal static async Task<string> ReadToEndAsync(Socket socket)
    {
        var buffer = new byte[4096];
        var text = new StringBuilder();
        while (true)
        {
            var read = await socket.ReceiveAsync(buffer).WaitAsync(Bound);
            if (read == 0)
            {
                return text.ToString();
            }

            text.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }
    }
}
