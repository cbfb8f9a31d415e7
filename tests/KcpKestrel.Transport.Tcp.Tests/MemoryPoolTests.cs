using System.Net;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Hosting;
using Xunit.Abstractions;

namespace KcpKestrel.Transport.Tcp.Tests;

public sealed class MemoryPoolTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(TcpEngine.Epoll)]
    [InlineData(TcpEngine.IoUring)]
    public async Task AcceptedConnections_InAKestrelHost_UseKestrelsPinnedBlockPool(TcpEngine engine)
    {
        if (IoUringTcpTestSupport.Unavailable(engine, output))
        {
            return;
        }

        var seen = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var host = await TunedTcpTestHost.StartAsync(
            o => { o.AcceptLoops = 1; o.Engine = engine; },
            k => k.Listen(IPAddress.Loopback, 0, lo => lo.Use(next => ctx =>
            {
                seen.TrySetResult(ctx.Features.Get<IMemoryPoolFeature>()?.MemoryPool.GetType().Name ?? "none");
                return next(ctx);
            })));

        Assert.EndsWith("ok", await TunedTcpTestHost.RawGetAsync(TunedTcpTestHost.Port(host)), StringComparison.Ordinal);

        // The pool Kestrel's own sockets transport gets from DI; the socket factory's public options would give an
        // ArrayMemoryPool, renting and pinning a plain array for every read and write (the io_uring engine's sends
        // pinned each segment of the shared array pool the same way).
        Assert.Equal("PinnedBlockMemoryPool", await seen.Task.WaitAsync(TunedTcpTestHost.Bound));
        await host.StopAsync().WaitAsync(TunedTcpTestHost.Bound);
    }

    [Fact]
    public void Options_WithoutAPoolFactory_KeepTheSocketFactoryDefaults()
    {
        SocketConnectionOptions.Create(null, out var pooled);
        Assert.False(pooled);
    }
}
