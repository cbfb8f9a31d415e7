using System.Net;
using KcpKestrel.Transport.UserTcp;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Hosting;

namespace KcpKestrel.Transport.UserTcp.Tests.Transport;

/// <summary>
/// Kestrel served by the user-space stack on one end of an in-memory packet link (10.77.0.1:8080), and a client stack
/// on the other end (10.77.0.2): a <see cref="UserTcpConnectionFactory"/> whose connections reach the server. The
/// link has no delay and no loss unless a test sets them; both loops run on real threads with their own clocks.
/// </summary>
internal sealed class UserTcpPair : IAsyncDisposable
{
    public static readonly IPAddress ServerAddress = IPAddress.Parse("10.77.0.1");
    public static readonly IPAddress ClientAddress = IPAddress.Parse("10.77.0.2");
    public static readonly IPAddress ServerAddressV6 = IPAddress.Parse("fd00:77::1");
    public static readonly IPAddress ClientAddressV6 = IPAddress.Parse("fd00:77::2");
    public const int Port = 8080;

    private UserTcpPair(InMemoryPacketLink link, IHost server, UserTcpConnectionFactory client, IPEndPoint serverEndPoint)
    {
        ServerEndPoint = serverEndPoint;
        Link = link;
        Server = server;
        Client = client;
    }

    public InMemoryPacketLink Link { get; }

    public IHost Server { get; }

    public UserTcpConnectionFactory Client { get; }

    /// <summary>Where the client connects: the server's address (IPv4, or IPv6 for an IPv6 pair) and port.</summary>
    public IPEndPoint ServerEndPoint { get; }

    /// <summary>Starts the server with <paramref name="configureListen"/> on its endpoint, and the client stack.</summary>
    public static async Task<UserTcpPair> StartAsync(
        Action<ListenOptions> configureListen,
        Action<IWebHostBuilder>? configureWebHost = null,
        Action<UserTcpOptions>? serverOptions = null,
        Action<UserTcpOptions>? clientOptions = null,
        int seed = 1,
        bool ipv6 = false)
    {
        var link = new InMemoryPacketLink(seed);
        var (server, client, prefix) = ipv6 ? (ServerAddressV6, ClientAddressV6, 64) : (ServerAddress, ClientAddress, 24);
        var serverEndPoint = new UserTcpEndPoint("kkut0", server, prefix, Port, client) { PacketSource = link.A, Configure = serverOptions };
        var host = await KestrelTestHost.StartAsync(web =>
        {
            web.UseKestrel(o => o.ListenUserSpaceTcp(serverEndPoint, configureListen));
            web.UseUserSpaceTcp();
            configureWebHost?.Invoke(web);
        });

        var options = new UserTcpOptions();
        clientOptions?.Invoke(options);
        var factory = new UserTcpConnectionFactory(new UserTcpEndPoint("kkut1", client, prefix, 0, server) { PacketSource = link.B }, options);
        return new UserTcpPair(link, host, factory, new IPEndPoint(server, Port));
    }

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync();
        await KestrelTestHost.StopAndDisposeAsync(Server, TimeSpan.FromSeconds(5));
    }
}
