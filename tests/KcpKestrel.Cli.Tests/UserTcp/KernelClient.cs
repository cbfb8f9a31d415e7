using System.Net;
using System.Net.Sockets;

namespace KcpKestrel.Cli.Tests.UserTcp;

/// <summary>
/// Kernel TCP sockets made inside a test's namespace (a socket belongs to the namespace of the thread that created
/// it, whichever thread uses it later), and an <see cref="HttpClient"/> whose every connection is such a socket.
/// </summary>
internal static class KernelClient
{
    /// <summary>A connected kernel socket from inside <paramref name="ns"/> to <paramref name="target"/>.</summary>
    public static async Task<Socket> ConnectAsync(NetNamespace ns, IPEndPoint target, CancellationToken cancellationToken = default)
    {
        var socket = ns.RunInside(() => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true });
        try
        {
            await socket.ConnectAsync(target, cancellationToken);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>An HttpClient for <c>http://10.77.0.1:8080</c> whose connections are kernel sockets in <paramref name="ns"/>.</summary>
    public static HttpClient Http(NetNamespace ns, Version? version = null)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = await ConnectAsync(ns, UserTcpServe.EndPoint, cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            },
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        };
        var client = new HttpClient(handler)
        {
            BaseAddress = new Uri($"http://{UserTcpServe.EndPoint}"),
            Timeout = TimeSpan.FromSeconds(120),
        };
        if (version is not null)
        {
            client.DefaultRequestVersion = version;
            client.DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact;
        }

        return client;
    }
}
