using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
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

    internal static int Port(IHost host) => ((IPEndPoint)(Factory(host).IoUringListeners.SingleOrDefault()?.EndPoint ?? Listener(host).EndPoint)).Port;

    /// <summary>Connections accepted by the host's one listener, whichever engine it runs.</summary>
    internal static long Accepted(IHost host) => Factory(host).IoUringListeners.SingleOrDefault()?.Accepted ?? Listener(host).Accepted;

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
