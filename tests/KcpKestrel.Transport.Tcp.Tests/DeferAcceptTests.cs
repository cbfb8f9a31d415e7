using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Hosting;
using Xunit.Abstractions;

namespace KcpKestrel.Transport.Tcp.Tests;

public sealed class DeferAcceptTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(TcpEngine.Epoll)]
    [InlineData(TcpEngine.IoUring)]
    public async Task SilentConnection_ReachesTheAppOnlyOnceDataArrives(TcpEngine engine)
    {
        if (IoUringTcpTestSupport.Unavailable(engine, output))
        {
            return;
        }

        var invoked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var host = await TunedTcpTestHost.StartAsync(
            o => { o.AcceptLoops = 1; o.DeferAcceptSeconds = 10; o.Engine = engine; },
            k => k.Listen(IPAddress.Loopback, 0, lo => lo.Run(async ctx =>
            {
                invoked.TrySetResult();
                var result = await ctx.Transport.Input.ReadAsync();
                ctx.Transport.Input.AdvanceTo(result.Buffer.End);
                await ctx.Transport.Output.WriteAsync(new byte[] { 42 });
            })));

        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, TunedTcpTestHost.Port(host)).WaitAsync(TunedTcpTestHost.Bound);

        // The client's handshake is complete, but the kernel keeps the connection out of the accept queue.
        await Task.Delay(TimeSpan.FromMilliseconds(1500));
        Assert.False(invoked.Task.IsCompleted, "the app saw a connection that had sent nothing");
        Assert.Equal(0, TunedTcpTestHost.Accepted(host));

        await socket.SendAsync(new byte[] { 1 });
        await invoked.Task.WaitAsync(TunedTcpTestHost.Bound);
        var reply = new byte[1];
        Assert.Equal(1, await socket.ReceiveAsync(reply).WaitAsync(TunedTcpTestHost.Bound));
        Assert.Equal(42, reply[0]);
        Assert.Equal(1, TunedTcpTestHost.Accepted(host));
        await host.StopAsync().WaitAsync(TunedTcpTestHost.Bound);
    }
}
