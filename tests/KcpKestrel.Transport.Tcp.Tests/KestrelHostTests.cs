using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Hosting;

namespace KcpKestrel.Transport.Tcp.Tests;

public sealed class KestrelHostTests
{
    [Fact]
    public async Task Connections_SpreadAcrossTheAcceptLoops()
    {
        using var host = await TunedTcpTestHost.StartAsync(o => o.AcceptLoops = 4, k => k.Listen(IPAddress.Loopback, 0));
        var listener = TunedTcpTestHost.Listener(host);
        Assert.Equal(4, listener.LoopCount);

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
        var perLoop = listener.GetAcceptedPerLoop();
        Assert.Equal(Connections, perLoop.Sum());
        Assert.Equal(Connections, listener.Accepted);
        Assert.True(perLoop.Count(n => n > 0) >= 2, $"accepted per loop: {string.Join(", ", perLoop)}");
        Assert.Equal(0, listener.RejectedOverLimit);
        await host.StopAsync().WaitAsync(TunedTcpTestHost.Bound);
    }

    [Fact]
    public async Task SideBySide_PlainEndpointsStayOnKestrelSockets()
    {
        var plain = new IPEndPoint(IPAddress.Loopback, 0);
        ListenOptions? plainOptions = null;
        using var host = await TunedTcpTestHost.StartAsync(
            o => { o.BindAllIPEndPoints = false; o.AcceptLoops = 2; },
            k =>
            {
                k.Listen(plain, lo => plainOptions = lo);
                k.ListenTunedTcp(IPAddress.Loopback, 0);
            });

        var tuned = TunedTcpTestHost.Listener(host);
        Assert.IsType<TunedTcpEndPoint>(tuned.EndPoint);
        var plainPort = ((IPEndPoint)plainOptions!.EndPoint).Port;
        Assert.NotEqual(0, plainPort);
        Assert.NotEqual(TunedTcpTestHost.Port(host), plainPort);

        Assert.EndsWith("ok", await TunedTcpTestHost.RawGetAsync(plainPort), StringComparison.Ordinal);
        Assert.Equal(0, tuned.Accepted);
        Assert.EndsWith("ok", await TunedTcpTestHost.RawGetAsync(TunedTcpTestHost.Port(host)), StringComparison.Ordinal);
        Assert.Equal(1, tuned.Accepted);
        await host.StopAsync().WaitAsync(TunedTcpTestHost.Bound);
    }

    [Fact]
    public async Task AcceptedSockets_CarryTheConfiguredOptions()
    {
        var seen = new TaskCompletionSource<(bool NoDelay, int KeepAlive, int Idle, int Interval, int Count)>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var host = await TunedTcpTestHost.StartAsync(
            o =>
            {
                o.AcceptLoops = 1;
                o.KeepAliveIdleSeconds = 77;
                o.KeepAliveIntervalSeconds = 11;
                o.KeepAliveProbeCount = 3;
            },
            k => k.Listen(IPAddress.Loopback, 0, lo => lo.Use(next => ctx =>
            {
                var socket = ctx.Features.Get<IConnectionSocketFeature>()!.Socket;
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
