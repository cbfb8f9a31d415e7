using System.Net;
using System.Net.Sockets;
using KcpKestrel.Transport.Tcp.IoUring;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Xunit.Abstractions;

namespace KcpKestrel.Transport.Tcp.Tests;

public sealed class TunedTcpConnectionListenerFactoryTests(ITestOutputHelper output)
{
    private sealed class OtherIPEndPoint(IPAddress address, int port) : IPEndPoint(address, port);

    private static TunedTcpConnectionListenerFactory Create(Action<TunedTcpOptions> tune)
    {
        var options = new TunedTcpOptions();
        tune(options);
        return new TunedTcpConnectionListenerFactory(Options.Create(options), NullLoggerFactory.Instance);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void CanBind_TunedEndpointsAlways_PlainIPEndpointsWhenAsked(bool bindAll)
    {
        var factory = Create(o => o.BindAllIPEndPoints = bindAll);
        Assert.True(factory.CanBind(new TunedTcpEndPoint(IPAddress.Loopback, 0)));
        Assert.Equal(bindAll, factory.CanBind(new IPEndPoint(IPAddress.Loopback, 0)));
        Assert.False(factory.CanBind(new OtherIPEndPoint(IPAddress.Loopback, 0)));
        Assert.False(factory.CanBind(new UnixDomainSocketEndPoint("/tmp/tuned-tcp-test.sock")));
    }

    [Fact]
    public void Factory_RejectsInvalidOptions()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => Create(o => o.KeepAliveProbeCount = 0));
        Assert.Equal(nameof(TunedTcpOptions.KeepAliveProbeCount), error.ParamName);
    }

    [Theory]
    [InlineData(TcpEngine.Epoll)]
    [InlineData(TcpEngine.IoUring)]
    public async Task Listener_AcceptsUntilUnbound_ThenReturnsNull(TcpEngine engine)
    {
        if (IoUringTcpTestSupport.Unavailable(engine, output))
        {
            return;
        }

        var factory = Create(o => { o.AcceptLoops = 3; o.Engine = engine; });
        var listener = await factory.BindAsync(new TunedTcpEndPoint(IPAddress.Loopback, 0));
        var endPoint = Assert.IsType<TunedTcpEndPoint>(listener.EndPoint);
        Assert.NotEqual(0, endPoint.Port);
        Assert.Equal(3, LoopCount(listener));
        Assert.Same(listener, Assert.Single(Bound(factory)));

        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(IPAddress.Loopback, endPoint.Port).WaitAsync(TunedTcpTestHost.Bound);
        var connection = await listener.AcceptAsync().AsTask().WaitAsync(TunedTcpTestHost.Bound);
        Assert.NotNull(connection);
        Assert.Equal(client.LocalEndPoint, connection.RemoteEndPoint);
        await connection.DisposeAsync();

        await listener.UnbindAsync().AsTask().WaitAsync(TunedTcpTestHost.Bound);
        Assert.Null(await listener.AcceptAsync().AsTask().WaitAsync(TunedTcpTestHost.Bound));
        using var late = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var refused = await Assert.ThrowsAsync<SocketException>(() => late.ConnectAsync(IPAddress.Loopback, endPoint.Port));
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);

        await listener.DisposeAsync();
        Assert.Empty(Bound(factory));
    }

    [Theory]
    [InlineData(TcpEngine.Epoll)]
    [InlineData(TcpEngine.IoUring)]
    public async Task PerEndpointOptions_OverrideTheFactoryOptions(TcpEngine engine)
    {
        if (IoUringTcpTestSupport.Unavailable(engine, output))
        {
            return;
        }

        // The engine comes from the endpoint's options too: the factory's says epoll for the io_uring case.
        var factory = Create(o => o.AcceptLoops = 4);
        var endPoint = new TunedTcpEndPoint(IPAddress.Loopback, 0) { Options = new TunedTcpOptions { AcceptLoops = 1, Engine = engine } };
        await using var listener = await factory.BindAsync(endPoint);
        Assert.Equal(1, LoopCount(listener));
        Assert.Equal(engine == TcpEngine.IoUring, listener is IoUringTcpConnectionListener);
    }

    [Theory]
    [InlineData(TcpEngine.Epoll)]
    [InlineData(TcpEngine.IoUring)]
    public async Task DualMode_IPv6AnyAcceptsIPv4Clients(TcpEngine engine)
    {
        if (IoUringTcpTestSupport.Unavailable(engine, output))
        {
            return;
        }

        var factory = Create(o => { o.AcceptLoops = 2; o.DualMode = true; o.Engine = engine; });
        await using var listener = await factory.BindAsync(new IPEndPoint(IPAddress.IPv6Any, 0));
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.EndPoint).Port).WaitAsync(TunedTcpTestHost.Bound);
        var connection = await listener.AcceptAsync().AsTask().WaitAsync(TunedTcpTestHost.Bound);
        Assert.NotNull(connection);
        await connection.DisposeAsync();
    }

    [Theory]
    [InlineData(TcpEngine.Epoll)]
    [InlineData(TcpEngine.IoUring)]
    public async Task BindingAPortInUse_ThrowsAddressInUse(TcpEngine engine)
    {
        if (IoUringTcpTestSupport.Unavailable(engine, output))
        {
            return;
        }

        var factory = Create(o => { o.AcceptLoops = 1; o.Engine = engine; });
        using var holder = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        holder.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        holder.Listen();
        var port = ((IPEndPoint)holder.LocalEndPoint!).Port;
        await Assert.ThrowsAsync<Microsoft.AspNetCore.Connections.AddressInUseException>(
            () => factory.BindAsync(new TunedTcpEndPoint(IPAddress.Loopback, port)).AsTask());
    }

    private static int LoopCount(IConnectionListener listener) =>
        listener is IoUringTcpConnectionListener uring ? uring.Workers.Count : ((TunedTcpConnectionListener)listener).LoopCount;

    private static IEnumerable<IConnectionListener> Bound(TunedTcpConnectionListenerFactory factory) =>
        factory.Listeners.Cast<IConnectionListener>().Concat(factory.IoUringListeners);
}
