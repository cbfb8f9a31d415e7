using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Hosting;

namespace KcpKestrel.Transport.Tcp.Tests;

public sealed class NoDelayTests
{
    [Fact]
    public async Task ListeningSockets_NoDelayOn_CarryItForAcceptedSocketsToInherit()
    {
        using var host = await TunedTcpTestHost.StartAsync(o => o.AcceptLoops = 2, k => k.Listen(IPAddress.Loopback, 0));
        var listener = TunedTcpTestHost.Listener(host);

        for (var i = 0; i < listener.LoopCount; i++)
        {
            Assert.True(listener.ListeningSocket(i).NoDelay, $"loop {i}'s listening socket lacks TCP_NODELAY");
        }

        await host.StopAsync().WaitAsync(TunedTcpTestHost.Bound);
    }

    [Fact]
    public async Task AcceptedSockets_NoDelayOff_KeepNagle()
    {
        var seen = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var host = await TunedTcpTestHost.StartAsync(
            o => { o.AcceptLoops = 1; o.NoDelay = false; },
            k => k.Listen(IPAddress.Loopback, 0, lo => lo.Use(next => ctx =>
            {
                seen.TrySetResult(ctx.Features.Get<IConnectionSocketFeature>()!.Socket.NoDelay);
                return next(ctx);
            })));
        var listener = TunedTcpTestHost.Listener(host);

        Assert.EndsWith("ok", await TunedTcpTestHost.RawGetAsync(TunedTcpTestHost.Port(host)), StringComparison.Ordinal);
        Assert.False(await seen.Task.WaitAsync(TunedTcpTestHost.Bound));
        Assert.False(listener.ListeningSocket(0).NoDelay);
        await host.StopAsync().WaitAsync(TunedTcpTestHost.Bound);
    }
}
