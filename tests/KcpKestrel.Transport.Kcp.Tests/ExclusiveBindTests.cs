using System.Net;
using System.Net.Sockets;
using KcpKestrel.Transport.Kcp.Io.Datagrams;
using KcpKestrel.Transport.Kcp.Listener;
using KcpKestrel.Transport.Kcp.Tests.Infrastructure;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Options;
using static KcpKestrel.Tests.Shared.TestWaits;

namespace KcpKestrel.Transport.Kcp.Tests;

/// <summary>
/// A KCP port is the listener's alone (issue #18 item 6): a second listener, or any socket already
/// holding the port, makes the bind fail with Kestrel's <see cref="AddressInUseException"/>; the
/// listener's own loops still share the port. No test lets a second socket join a bound group.
/// </summary>
public sealed class ExclusiveBindTests
{
    [Theory]
    [InlineData("127.0.0.1", false)]
    [InlineData("::1", false)]
    [InlineData("127.0.0.1", true)]
    [InlineData("::1", true)]
    public async Task SecondListener_OnTheSamePort_ThrowsAddressInUse(string address, bool socketPath)
    {
        UdpIoMode? mode = socketPath ? UdpIoMode.Socket : null;
        using var factory = Factory();
        var ip = IPAddress.Parse(address);
        await using var first = await BindAsync(factory, new IPEndPoint(ip, 0), mode, loops: 3);
        var port = first.LocalEndPoint is IPEndPoint bound ? bound.Port : 0;
        Assert.NotEqual(0, port);
        Assert.Equal(3, first.Options.IoLoopCount);

        var error = await Assert.ThrowsAsync<AddressInUseException>(() => BindAsync(factory, new IPEndPoint(ip, port), mode, loops: 3));
        Assert.Equal($"Failed to bind to address kcp://{new IPEndPoint(ip, port)}: address already in use.", error.Message);
        var cause = Assert.IsType<SocketException>(error.InnerException);
        Assert.Equal(SocketError.AddressAlreadyInUse, cause.SocketErrorCode);

        // A single-loop listener is refused as well, and the refused binds left nothing registered.
        await Assert.ThrowsAsync<AddressInUseException>(() => BindAsync(factory, new IPEndPoint(ip, port), mode, loops: 1));
        Assert.Same(first, Assert.Single(factory.Listeners.Listeners));
    }

    [Theory]
    [InlineData("127.0.0.1", false)]
    [InlineData("::1", false)]
    [InlineData("127.0.0.1", true)]
    [InlineData("::1", true)]
    public async Task PortHeldByAForeignUdpSocket_IsRefused(string address, bool foreignReusePort)
    {
        // A plain socket, or one that set SO_REUSEPORT itself (as another KCP server's loop would):
        // either way it was there first, so the listener must not share its port.
        var ip = IPAddress.Parse(address);
        using var foreign = new Socket(ip.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        if (foreignReusePort)
        {
            foreign.SetRawSocketOption(1, 15, BitConverter.GetBytes(1)); // SOL_SOCKET, SO_REUSEPORT
        }

        foreign.Bind(new IPEndPoint(ip, 0));
        var port = ((IPEndPoint)foreign.LocalEndPoint!).Port;
        using var factory = Factory();
        await Assert.ThrowsAsync<AddressInUseException>(() => BindAsync(factory, new IPEndPoint(ip, port), null, loops: 2));
        Assert.Empty(factory.Listeners.Listeners);
    }

    [Fact]
    public async Task DualModeAny_RefusesAPortHeldOnIPv4Loopback()
    {
        using var foreign = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        foreign.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var port = ((IPEndPoint)foreign.LocalEndPoint!).Port;
        using var factory = Factory();
        await Assert.ThrowsAsync<AddressInUseException>(() => BindAsync(factory, new IPEndPoint(IPAddress.IPv6Any, port), null, loops: 2));
    }

    [Fact]
    public async Task DualModeAnyListener_RefusesASecondListenerOnIPv4Loopback()
    {
        using var factory = Factory();
        await using var first = await BindAsync(factory, new IPEndPoint(IPAddress.IPv6Any, 0), null, loops: 2);
        var port = ((IPEndPoint)first.LocalEndPoint).Port;
        await Assert.ThrowsAsync<AddressInUseException>(() => BindAsync(factory, new IPEndPoint(IPAddress.Loopback, port), null, loops: 2));
    }

    [Fact]
    public async Task PortZero_EachListenerGetsAPortOfItsOwn_SharedByItsLoops()
    {
        using var factory = Factory();
        await using var first = await BindAsync(factory, new IPEndPoint(IPAddress.Loopback, 0), null, loops: 4);
        await using var second = await BindAsync(factory, new IPEndPoint(IPAddress.Loopback, 0), null, loops: 4);
        var firstPort = ((IPEndPoint)first.LocalEndPoint).Port;
        var secondPort = ((IPEndPoint)second.LocalEndPoint).Port;
        Assert.NotEqual(0, firstPort);
        Assert.NotEqual(0, secondPort);
        Assert.NotEqual(firstPort, secondPort);
        Assert.Equal(4, first.Options.IoLoopCount);
        Assert.Equal(2, factory.Listeners.Listeners.Length);

        // The port is taken once bound, and free again once the listener is gone.
        await Assert.ThrowsAsync<AddressInUseException>(() => BindAsync(factory, new IPEndPoint(IPAddress.Loopback, firstPort), null, loops: 4));
        await first.DisposeAsync();
        await using var again = await BindAsync(factory, new IPEndPoint(IPAddress.Loopback, firstPort), null, loops: 4);
        Assert.Equal(firstPort, ((IPEndPoint)again.LocalEndPoint).Port);
    }

    [Fact]
    public async Task SecondKestrelHost_OnTheKcpPort_FailsToStart_AndTheFirstKeepsServing()
    {
        await using var host = await KcpTestHost.StartAsync<EchoConnectionHandler>();
        var port = host.KcpEndPoint.IPEndPoint.Port;

        // Kestrel wraps the transport's AddressInUseException in its own IOException, as for TCP.
        var error = await Assert.ThrowsAsync<IOException>(() => KcpTestHost.StartAsync<EchoConnectionHandler>(kcpPort: port));
        Assert.IsType<AddressInUseException>(error.InnerException);
        Assert.Contains($"kcp://127.0.0.1:{port}: address already in use.", error.Message, StringComparison.Ordinal);

        await using var clients = KcpTestHost.Client().CreateFactory();
        var connection = await clients.ConnectAsync(host.KcpEndPoint).AsTask().WaitAsync(Bound);
        var (sent, received) = await StreamCheck.EchoAsync(connection, 64 * 1024, 7, Bound);
        Assert.Equal(sent, received);
        await connection.DisposeAsync();
    }

    private static KcpConnectionListenerFactory Factory() => new(Options.Create(new KcpTransportOptions()));

    private static async Task<KcpConnectionListener> BindAsync(KcpConnectionListenerFactory factory, IPEndPoint endPoint, UdpIoMode? mode, int loops)
    {
        var kcp = new KcpEndPoint(endPoint)
        {
            Configure = k =>
            {
                k.Key = "test-secret";
                k.IoLoopCount = loops;
                k.IoOverrides = new() { Mode = mode };
            },
        };
        return (KcpConnectionListener)await factory.BindAsync(kcp);
    }
}
