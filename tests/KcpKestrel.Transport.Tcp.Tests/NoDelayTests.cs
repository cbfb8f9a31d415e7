using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Hosting;
using Xunit.Abstractions;

namespace KcpKestrel.Transport.Tcp.Tests;

public sealed class NoDelayTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(TcpEngine.Epoll)]
    [InlineData(TcpEngine.IoUring)]
    public async Task ListeningSockets_NoDelayOn_CarryItForAcceptedSocketsToInherit(TcpEngine engine)
    {
        if (IoUringTcpTestSupport.Unavailable(engine, output))
        {
            return;
        }

        using var host = await TunedTcpTestHost.StartAsync(o => { o.AcceptLoops = 2; o.Engine = engine; }, k => k.Listen(IPAddress.Loopback, 0));
        var sockets = TunedTcpTestHost.ListeningSockets(host);
        Assert.Equal(2, sockets.Count);
        for (var i = 0; i < sockets.Count; i++)
        {
            Assert.True(sockets[i].NoDelay, $"loop {i}'s listening socket lacks TCP_NODELAY");
        }

        await host.StopAsync().WaitAsync(TunedTcpTestHost.Bound);
    }

    [Theory]
    [InlineData(TcpEngine.Epoll)]
    [InlineData(TcpEngine.IoUring)]
    public async Task AcceptedSockets_NoDelayOff_KeepNagle(TcpEngine engine)
    {
        if (IoUringTcpTestSupport.Unavailable(engine, output))
        {
            return;
        }

        var seen = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var host = await TunedTcpTestHost.StartAsync(
            o => { o.AcceptLoops = 1; o.NoDelay = false; o.Engine = engine; },
            k => k.Listen(IPAddress.Loopback, 0, lo => lo.Use(next => ctx =>
            {
                seen.TrySetResult(TunedTcpTestHost.SocketOf(ctx).NoDelay);
                return next(ctx);
            })));

        Assert.EndsWith("ok", await TunedTcpTestHost.RawGetAsync(TunedTcpTestHost.Port(host)), StringComparison.Ordinal);
        Assert.False(await seen.Task.WaitAsync(TunedTcpTestHost.Bound));
        Assert.False(TunedTcpTestHost.ListeningSockets(host)[0].NoDelay);
        await host.StopAsync().WaitAsync(TunedTcpTestHost.Bound);
    }
}
