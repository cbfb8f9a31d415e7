using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Hosting;
using Xunit.Abstractions;

namespace KcpKestrel.Transport.Tcp.Tests;

public sealed class KestrelHostTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(TcpEngine.Epoll)]
    [InlineData(TcpEngine.IoUring)]
    public async Task Connections_SpreadAcrossTheAcceptLoops(TcpEngine engine)
    {
        if (IoUringTcpTestSupport.Unavailable(engine, output))
        {
            return;
        }

        using var host = await TunedTcpTestHost.StartAsync(o => { o.AcceptLoops = 4; o.Engine = engine; }, k => k.Listen(IPAddress.Loopback, 0));
        Assert.Equal(4, TunedTcpTestHost.LoopCount(host));

        using var client = new HttpClient { Timeout = TunedTcpTestHost.Bound };
        var port = TunedTcpTestHost.Port(host);
        const int Connections = 64;
        for (var i = 0; i < Connections; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"http://127.0.0.1:{port}/"));
            request.Headers.ConnectionClose = true;
            using var response = await client.SendAsync(request);
            Assert.Equal("ok", await response.Content.ReadAsStringAsync());
        }

        // SO_REUSEPORT hashes each connection's 4-tuple (the client port varies) to one socket of the group:
        // 64 connections all landing on one of 4 sockets has probability 4^-63.
        var perLoop = TunedTcpTestHost.AcceptedPerLoop(host);
        Assert.Equal(Connections, perLoop.Sum());
        Assert.Equal(Connections, TunedTcpTestHost.Accepted(host));
        Assert.True(perLoop.Count(n => n > 0) >= 2, $"accepted per loop: {string.Join(", ", perLoop)}");
        Assert.Equal(0, TunedTcpTestHost.RejectedOverLimit(host));
        await host.StopAsync().WaitAsync(TunedTcpTestHost.Bound);
    }

    [Theory]
    [InlineData(TcpEngine.Epoll)]
    [InlineData(TcpEngine.IoUring)]
    public async Task SideBySide_PlainEndpointsStayOnKestrelSockets(TcpEngine engine)
    {
        if (IoUringTcpTestSupport.Unavailable(engine, output))
        {
            return;
        }

        var plain = new IPEndPoint(IPAddress.Loopback, 0);
        ListenOptions? plainOptions = null;
        using var host = await TunedTcpTestHost.StartAsync(
            o => { o.BindAllIPEndPoints = false; o.AcceptLoops = 2; o.Engine = engine; },
            k =>
            {
                k.Listen(plain, lo => plainOptions = lo);
                k.ListenTunedTcp(IPAddress.Loopback, 0);
            });

        Assert.IsType<TunedTcpEndPoint>(TunedTcpTestHost.EndPoint(host));
        var plainPort = ((IPEndPoint)plainOptions!.EndPoint).Port;
        Assert.NotEqual(0, plainPort);
        Assert.NotEqual(TunedTcpTestHost.Port(host), plainPort);

        Assert.EndsWith("ok", await TunedTcpTestHost.RawGetAsync(plainPort), StringComparison.Ordinal);
        Assert.Equal(0, TunedTcpTestHost.Accepted(host));
        Assert.EndsWith("ok", await TunedTcpTestHost.RawGetAsync(TunedTcpTestHost.Port(host)), StringComparison.Ordinal);
        Assert.Equal(1, TunedTcpTestHost.Accepted(host));
        await host.StopAsync().WaitAsync(TunedTcpTestHost.Bound);
    }

    [Theory]
    [InlineData(TcpEngine.Epoll)]
    [InlineData(TcpEngine.IoUring)]
    public async Task AcceptedSockets_CarryTheConfiguredOptions(TcpEngine engine)
    {
        if (IoUringTcpTestSupport.Unavailable(engine, output))
        {
            return;
        }

        var seen = new TaskCompletionSource<(bool NoDelay, int KeepAlive, int Idle, int Interval, int Count)>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var host = await TunedTcpTestHost.StartAsync(
            o =>
            {
                o.AcceptLoops = 1;
                o.Engine = engine;
                o.KeepAliveIdleSeconds = 77;
                o.KeepAliveIntervalSeconds = 11;
                o.KeepAliveProbeCount = 3;
            },
            k => k.Listen(IPAddress.Loopback, 0, lo => lo.Use(next => ctx =>
            {
                var socket = TunedTcpTestHost.SocketOf(ctx);
                seen.TrySetResult((
                    socket.NoDelay,
                    (int)socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive)!,
                    (int)socket.GetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime)!,
                    (int)socket.GetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveInterval)!,
                    (int)socket.GetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveRetryCount)!));
                return next(ctx);
            })));

        Assert.EndsWith("ok", await TunedTcpTestHost.RawGetAsync(TunedTcpTestHost.Port(host)), StringComparison.Ordinal);
        var options = await seen.Task.WaitAsync(TunedTcpTestHost.Bound);
        Assert.True(options.NoDelay);
        Assert.NotEqual(0, options.KeepAlive);
        Assert.Equal(77, options.Idle);
        Assert.Equal(11, options.Interval);
        Assert.Equal(3, options.Count);
        await host.StopAsync().WaitAsync(TunedTcpTestHost.Bound);
    }
}
