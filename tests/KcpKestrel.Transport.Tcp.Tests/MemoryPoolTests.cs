using System.Net;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Hosting;

namespace KcpKestrel.Transport.Tcp.Tests;

/// <summary>
/// The epoll engine only: it hands accepted sockets to Kestrel's own socket connection code, which takes the pool it is
/// given. The io_uring engine makes its own connections and pipes, copying each provided receive buffer into them;
/// which pool those pipes use is a choice of that engine's receive path, measured in its benchmarks, not an option.
/// </summary>
public sealed class MemoryPoolTests
{
    [Fact]
    public async Task AcceptedConnections_InAKestrelHost_UseKestrelsPinnedBlockPool()
    {
        var seen = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var host = await TunedTcpTestHost.StartAsync(
            o => o.AcceptLoops = 1,
            k => k.Listen(IPAddress.Loopback, 0, lo => lo.Use(next => ctx =>
            {
                seen.TrySetResult(ctx.Features.Get<IMemoryPoolFeature>()?.MemoryPool.GetType().Name ?? "none");
                return next(ctx);
            })));

        Assert.EndsWith("ok", await TunedTcpTestHost.RawGetAsync(TunedTcpTestHost.Port(host)), StringComparison.Ordinal);

        // The pool Kestrel's own sockets transport gets from DI; the socket factory's public options would give an
        // ArrayMemoryPool, renting and pinning a plain array for every read and write.
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
