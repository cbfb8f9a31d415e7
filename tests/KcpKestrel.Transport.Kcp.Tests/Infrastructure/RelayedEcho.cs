using System.Net;
using KcpKestrel.Relay;
using KcpKestrel.Transport.Kcp.Client;
using KcpKestrel.Transport.Kcp.Listener;
using Microsoft.AspNetCore.Connections;

namespace KcpKestrel.Transport.Kcp.Tests.Infrastructure;

/// <summary>
/// One KCP session through a <see cref="LossyUdpRelay"/> in front of a direct listener, the server side
/// echoing: the setup of the bad-link tests. Disposing closes the client, waits for the echo to end,
/// then closes the server session, the client factory and the relay (not the listener).
/// </summary>
internal sealed class RelayedEcho : IAsyncDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    private readonly KcpConnectionFactory _factory;
    private readonly Task _echo;

    private RelayedEcho(LossyUdpRelay relay, KcpConnectionFactory factory, ConnectionContext client, ConnectionContext server)
    {
        Relay = relay;
        _factory = factory;
        Client = client;
        Server = server;
        _echo = Task.Run(() => server.Transport.Input.CopyToAsync(server.Transport.Output));
    }

    public LossyUdpRelay Relay { get; }

    public ConnectionContext Client { get; }

    public ConnectionContext Server { get; }

    /// <summary>A bad link: 5% loss, 2% reordering, 1% duplicates and 0.1% corruption each way, 2 ms delay plus up to 3 ms jitter.</summary>
    public static LinkImpairment BadLink(int seed) => new()
    {
        Loss = 0.05,
        Reorder = 0.02,
        Duplicate = 0.01,
        Corrupt = 0.001,
        Delay = TimeSpan.FromMilliseconds(2),
        Jitter = TimeSpan.FromMilliseconds(3),
        Seed = seed,
    };

    public static async Task<RelayedEcho> OpenAsync(KcpConnectionListener listener, LinkImpairment impairment, Action<KcpOptions> configureClient)
    {
        var relay = new LossyUdpRelay(new IPEndPoint(IPAddress.Loopback, 0), ((KcpEndPoint)listener.EndPoint).IPEndPoint, impairment);
        relay.Start();
        var factory = KcpTestHost.Client(configureClient).CreateFactory();
        var client = await factory.ConnectAsync(new KcpEndPoint(relay.EndPoint));
        var server = (await listener.AcceptAsync().AsTask().WaitAsync(Bound))!;
        return new RelayedEcho(relay, factory, client, server);
    }

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync();
        await _echo.WaitAsync(Bound);
        await Server.DisposeAsync();
        await _factory.DisposeAsync();
        await Relay.DisposeAsync();
    }
}
