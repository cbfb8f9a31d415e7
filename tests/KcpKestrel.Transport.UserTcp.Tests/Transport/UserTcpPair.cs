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
    public const int Port = 8080;

    private UserTcpPair(InMemoryPacketLink link, IHost server, UserTcpConnectionFactory client)
    {
        Link = link;
        Server = server;
        Client = client;
    }

    public InMemoryPacketLink Link { get; }

    public IHost Server { get; }

    public UserTcpConnectionFactory Client { get; }

    public static IPEndPoint ServerEndPoint => new(ServerAddress, Port);

    /// <summary>Starts the server with <paramref name="configureListen"/> on its endpoint, and the client stack.</summary>
    public static async Task<UserTcpPair> StartAsync(
        Action<ListenOptions> configureListen,
        Action<IWebHostBuilder>? configureWebHost = null,
        Action<UserTcpOptions>? serverOptions = null,
        Action<UserTcpOptions>? clientOptions = null,
        int seed = 1)
    {
        var link = new InMemoryPacketLink(seed);
        var serverEndPoint = new UserTcpEndPoint("kkut0", ServerAddress, 24, Port, ClientAddress) { PacketSource = link.A, Configure = serverOptions };
        var host = await KestrelTestHost.StartAsync(web =>
        {
            web.UseKestrel(o => o.ListenUserSpaceTcp(serverEndPoint, configureListen));
            web.UseUserSpaceTcp();
            configureWebHost?.Invoke(web);
        });

        var options = new UserTcpOptions();
        clientOptions?.Invoke(options);
        var client = new UserTcpConnectionFactory(new UserTcpEndPoint("kkut1", ClientAddress, 24, 0, ServerAddress) { PacketSource = link.B }, options);
        return new UserTcpPair(link, host, client);
    }

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync();
        await KestrelTestHost.StopAndDisposeAsync(Server, TimeSpan.FromSeconds(5));
    }
}
