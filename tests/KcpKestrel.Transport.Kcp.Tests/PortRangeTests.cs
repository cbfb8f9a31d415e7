using System.Net;
using System.Net.Sockets;
using KcpKestrel.Transport.Kcp.Client;
using KcpKestrel.Transport.Kcp.Diagnostics;
using KcpKestrel.Transport.Kcp.Multiplexing;
using KcpKestrel.Transport.Kcp.Tests.Infrastructure;
using KcpKestrel.Transport.Kcp.Tests.Multiplexing;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace KcpKestrel.Transport.Kcp.Tests;

/// <summary>
/// kcptun's port ranges (<c>--listen IP:min-max</c>, <c>--remoteaddr IP:min-max</c>): a listener on every port of the
/// range, and a client that sends each new session to a port drawn at random from it.
/// </summary>
public sealed class PortRangeTests
{
    private const int Ports = 4;

    [Fact]
    public async Task SmuxPool_RangeEndpoint_SessionsSpreadOverThePorts()
    {
        await using var server = await RangeServer.StartAsync(k => SmuxListenerTests.Smux(k, 2, compress: true));
        var options = KcpTestHost.Client(k => SmuxListenerTests.Smux(k, 2, compress: true)).Build();
        options.SessionsPerEndpoint = 12;
        await using var factory = new KcpConnectionFactory(options);

        var ports = new List<int>();
        for (var i = 0; i < 24; i++)
        {
            await using var connection = await factory.ConnectAsync(server.EndPoint);
            var (sent, received) = await StreamCheck.EchoAsync(connection, 4096, i, TestWaits.Bound);
            Assert.Equal(sent, received);
            ports.Add(((KcpEndPoint)connection.RemoteEndPoint!).IPEndPoint.Port);
        }

        Assert.Equal(12, factory.SessionsDialed);
        AssertSpread(server, ports, sessions: 12);
    }

    [Fact]
    public async Task PlainDials_RangeEndpoint_EachSessionToARandomPort()
    {
        await using var server = await RangeServer.StartAsync(_ => { });
        await using var factory = KcpTestHost.Client().CreateFactory();

        var ports = new List<int>();
        for (var i = 0; i < 16; i++)
        {
            await using var connection = await factory.ConnectAsync(server.EndPoint);
            var (sent, received) = await StreamCheck.EchoAsync(connection, 4096, i, TestWaits.Bound);
            Assert.Equal(sent, received);
            ports.Add(((KcpEndPoint)connection.RemoteEndPoint!).IPEndPoint.Port);
        }

        AssertSpread(server, ports, sessions: 16);
    }

    [Fact]
    public async Task Bind_PortTakenInsideRange_FailsAndReleasesTheOthers()
    {
        var first = UdpPortRange.FindFree(Ports);
        using var factory = new KcpConnectionListenerFactory(Options.Create(new KcpTransportOptions()));
        var range = new KcpEndPoint(IPAddress.Loopback, first, first + Ports - 1) { Configure = k => k.Key = "k" };
        using (var blocker = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp))
        {
            blocker.Bind(new IPEndPoint(IPAddress.Loopback, first + 2));
            await Assert.ThrowsAsync<AddressInUseException>(() => factory.BindAsync(range).AsTask());
            Assert.Empty(factory.Listeners.Listeners);
        }

        // Every port was released: the whole range binds now.
        var listener = await factory.BindAsync(range);
        Assert.Equal(range, listener.EndPoint);
        Assert.Equal(Ports, factory.Listeners.Listeners.Length);
        await listener.DisposeAsync();
        Assert.Empty(factory.Listeners.Listeners);
    }

    [Fact]
    public async Task Bind_RangeWiderThanTheLimit_ArgumentException()
    {
        using var factory = new KcpConnectionListenerFactory(Options.Create(new KcpTransportOptions()));
        var range = new KcpEndPoint(IPAddress.Loopback, 40000, 40000 + KcpConnectionListenerFactory.MaxPortRange) { Configure = k => k.Key = "k" };

        var error = await Assert.ThrowsAsync<ArgumentException>(() => factory.BindAsync(range).AsTask());

        Assert.Contains("at most 256", error.Message, StringComparison.Ordinal);
        Assert.Empty(factory.Listeners.Listeners);
    }

    /// <summary>Every port used is in the range, more than one was used, and the server saw each session on the port dialed.</summary>
    private static void AssertSpread(RangeServer server, List<int> ports, int sessions)
    {
        Assert.All(ports, p => Assert.InRange(p, server.EndPoint.IPEndPoint.Port, server.EndPoint.MaxPort));

        // Uniform over 4 ports, all 12 or 16 sessions on one port has a chance under 1e-6.
        Assert.True(ports.Distinct().Count() > 1, $"every session went to port {ports[0]}");
        var listeners = server.Listeners;
        Assert.Equal(Ports, listeners.Length);
        Assert.Equal(sessions, listeners.Sum(l => l.Counters.SessionsAccepted));
        Assert.True(listeners.Count(l => l.Counters.SessionsAccepted > 0) > 1);
    }

    /// <summary>Kestrel serving an echo on a loopback KCP port range.</summary>
    private sealed class RangeServer : IAsyncDisposable
    {
        private readonly IHost _host;

        private RangeServer(IHost host, KcpEndPoint endPoint)
        {
            _host = host;
            EndPoint = endPoint;
        }

        public KcpEndPoint EndPoint { get; }

        public IKcpListenerState[] Listeners =>
            [.. _host.Services.GetServices<IConnectionListenerFactory>().OfType<KcpConnectionListenerFactory>().Single().Listeners.Listeners];

        public static async Task<RangeServer> StartAsync(Action<KcpOptions> configure)
        {
            for (var attempt = 1; ; attempt++)
            {
                var first = UdpPortRange.FindFree(Ports);
                var range = new KcpEndPoint(IPAddress.Loopback, first, first + Ports - 1)
                {
                    Configure = k =>
                    {
                        k.Crypt = "aes";
                        k.Key = "test-secret";
                        k.IoLoopCount = 1;
                        configure(k);
                    },
                };
                try
                {
                    var host = await KestrelTestHost.StartAsync(web => web
                        .UseKestrel(o => o.Listen(range, l => l.UseConnectionHandler<EchoConnectionHandler>()))
                        .UseKcp()
                        .ConfigureServices(s => s.AddSingleton<EchoConnectionHandler>()));
                    return new RangeServer(host, range);
                }
                catch (IOException) when (attempt < 5)
                {
                    // A port of the range was taken between the probe and the bind (AddressInUseException is an IOException).
                }
            }
        }

        public ValueTask DisposeAsync() => new(KestrelTestHost.StopAndDisposeAsync(_host, TimeSpan.FromSeconds(5)));
    }
}
