using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging.Abstractions;
using KcpKestrel.Transport.Tcp.IoUring;
using Microsoft.Extensions.Options;

namespace KcpKestrel.Transport.Tcp.Tests;

/// <summary>
/// A tuned TCP port is the listener's alone (issue #18 item 6): a second listener, or a socket already
/// listening on the port, makes the bind fail with Kestrel's <see cref="AddressInUseException"/>; the
/// listener's own accept loops still share the port. No test lets a second socket join a bound group.
/// Both engines bind through the same code; the cases that hold a listener run over each.
/// </summary>
public sealed class ExclusiveBindTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Theory]
    [InlineData("127.0.0.1", 3, TcpEngine.Epoll)]
    [InlineData("::1", 3, TcpEngine.Epoll)]
    [InlineData("127.0.0.1", 1, TcpEngine.Epoll)]
    [InlineData("::1", 1, TcpEngine.Epoll)]
    [InlineData("127.0.0.1", 3, TcpEngine.IoUring)]
    [InlineData("::1", 1, TcpEngine.IoUring)]
    public async Task SecondListener_OnTheSamePort_ThrowsAddressInUse(string address, int loops, TcpEngine engine)
    {
        if (IoUringTcpTestSupport.Unavailable(engine, output))
        {
            return;
        }

        var factory = Factory(loops, engine: engine);
        var ip = IPAddress.Parse(address);
        await using var first = await factory.BindAsync(new TunedTcpEndPoint(ip, 0));
        var port = ((IPEndPoint)first.EndPoint).Port;
        Assert.Equal(loops, LoopCount(first));

        foreach (var second in new[] { 1, 3 })
        {
            var error = await Assert.ThrowsAsync<AddressInUseException>(
                () => factory.BindAsync(new TunedTcpEndPoint(ip, port) { Options = new TunedTcpOptions { AcceptLoops = second } }).AsTask());
            Assert.Equal($"Failed to bind to address {new IPEndPoint(ip, port)}: address already in use.", error.Message);
            Assert.Equal(SocketError.AddressAlreadyInUse, Assert.IsType<SocketException>(error.InnerException).SocketErrorCode);
        }

        Assert.Same(first, Assert.Single<IConnectionListener>([.. factory.Listeners, .. factory.IoUringListeners]));
        await AcceptOneAsync(first, ip, port);
    }

    [Theory]
    [InlineData("127.0.0.1", false)]
    [InlineData("::1", false)]
    [InlineData("127.0.0.1", true)]
    [InlineData("::1", true)]
    public async Task PortHeldByAForeignTcpListener_IsRefused(string address, bool foreignReusePort)
    {
        // A plain listener, or one that set SO_REUSEPORT itself (as another tuned listener would):
        // either way it was there first, so the listener must not share its port.
        var ip = IPAddress.Parse(address);
        using var foreign = new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        if (foreignReusePort)
        {
            Assert.Equal(SocketError.Success, TcpSocketOptionNames.TrySetInt(foreign, TcpSocketOptionNames.SolSocket, TcpSocketOptionNames.SoReusePort, 1));
        }

        foreign.Bind(new IPEndPoint(ip, 0));
        foreign.Listen();
        var port = ((IPEndPoint)foreign.LocalEndPoint!).Port;
        var factory = Factory(loops: 2);
        await Assert.ThrowsAsync<AddressInUseException>(() => factory.BindAsync(new TunedTcpEndPoint(ip, port)).AsTask());
        Assert.Empty(factory.Listeners);
    }

    [Fact]
    public async Task DualModeAny_RefusesAPortListenedOnIPv4Loopback()
    {
        using var foreign = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        foreign.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        foreign.Listen();
        var port = ((IPEndPoint)foreign.LocalEndPoint!).Port;
        var factory = Factory(loops: 2, dualMode: true);
        await Assert.ThrowsAsync<AddressInUseException>(() => factory.BindAsync(new TunedTcpEndPoint(IPAddress.IPv6Any, port)).AsTask());
    }

    [Theory]
    [InlineData(TcpEngine.Epoll)]
    [InlineData(TcpEngine.IoUring)]
    public async Task PortZero_EachListenerGetsAPortOfItsOwn_SharedByItsLoops(TcpEngine engine)
    {
        if (IoUringTcpTestSupport.Unavailable(engine, output))
        {
            return;
        }

        var factory = Factory(loops: 4, engine: engine);
        await using var first = await factory.BindAsync(new TunedTcpEndPoint(IPAddress.Loopback, 0));
        await using var second = await factory.BindAsync(new TunedTcpEndPoint(IPAddress.Loopback, 0));
        var port = ((IPEndPoint)first.EndPoint).Port;
        Assert.NotEqual(port, ((IPEndPoint)second.EndPoint).Port);
        Assert.Equal(4, LoopCount(first));
        await AcceptOneAsync(first, IPAddress.Loopback, port);

        // Free again once the listener is gone.
        await first.DisposeAsync();
        await using var again = await factory.BindAsync(new TunedTcpEndPoint(IPAddress.Loopback, port));
        Assert.Equal(port, ((IPEndPoint)again.EndPoint).Port);
    }

    [Fact]
    public async Task SecondKestrelHost_OnTheSamePort_FailsToStart_AndTheFirstKeepsServing()
    {
        using var host = await TunedTcpTestHost.StartAsync(o => o.AcceptLoops = 2, k => k.Listen(IPAddress.Loopback, 0));
        var port = TunedTcpTestHost.Port(host);

        // Kestrel wraps the transport's AddressInUseException in its own IOException, as for its sockets transport.
        var error = await Assert.ThrowsAsync<IOException>(() => TunedTcpTestHost.StartAsync(o => o.AcceptLoops = 2, k => k.Listen(IPAddress.Loopback, port)));
        Assert.IsType<AddressInUseException>(error.InnerException);
        Assert.Equal($"Failed to bind to address http://127.0.0.1:{port}: address already in use.", error.Message);

        Assert.StartsWith("HTTP/1.1 200", await TunedTcpTestHost.RawGetAsync(port), StringComparison.Ordinal);
        await host.StopAsync().WaitAsync(TunedTcpTestHost.Bound);
    }

    private static TunedTcpConnectionListenerFactory Factory(int loops, bool dualMode = false, TcpEngine engine = TcpEngine.Epoll) =>
        new(Options.Create(new TunedTcpOptions { AcceptLoops = loops, DualMode = dualMode, Engine = engine }), NullLoggerFactory.Instance);

    private static int LoopCount(IConnectionListener listener) =>
        listener is IoUringTcpConnectionListener uring ? uring.Workers.Count : ((TunedTcpConnectionListener)listener).LoopCount;

    private static async Task AcceptOneAsync(IConnectionListener listener, IPAddress ip, int port)
    {
        using var client = new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(ip, port).WaitAsync(TunedTcpTestHost.Bound);
        var connection = await listener.AcceptAsync().AsTask().WaitAsync(TunedTcpTestHost.Bound);
        Assert.NotNull(connection);
        await connection.DisposeAsync();
    }
}
