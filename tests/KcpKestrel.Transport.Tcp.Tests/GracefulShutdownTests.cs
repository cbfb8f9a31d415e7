using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Xunit.Abstractions;

namespace KcpKestrel.Transport.Tcp.Tests;

public sealed class GracefulShutdownTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(TcpEngine.Epoll)]
    [InlineData(TcpEngine.IoUring)]
    public async Task StopAsync_LetsInFlightRequestsFinish_AndStopsAcceptingAtOnce(TcpEngine engine)
    {
        if (IoUringTcpTestSupport.Unavailable(engine, output))
        {
            return;
        }

        const int RequestCount = 8;
        var inHandler = 0;
        var allStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var host = await TunedTcpTestHost.StartAsync(
            o => { o.AcceptLoops = 2; o.Engine = engine; },
            k => k.Listen(IPAddress.Loopback, 0),
            async ctx =>
            {
                if (Interlocked.Increment(ref inHandler) == RequestCount)
                {
                    allStarted.TrySetResult();
                }

                await release.Task;
                await ctx.Response.WriteAsync("done");
            },
            shutdownTimeout: TimeSpan.FromSeconds(15));
        var port = TunedTcpTestHost.Port(host);

        var requests = new Task<string>[RequestCount];
        for (var i = 0; i < requests.Length; i++)
        {
            requests[i] = TunedTcpTestHost.RawGetAsync(port);
        }

        // Every request must be inside the handler before the stop: Kestrel closes a connection whose request
        // it has not begun to read as idle, which would be right but is not what this test is about.
        await allStarted.Task.WaitAsync(TunedTcpTestHost.Bound);
        Assert.Equal(RequestCount, TunedTcpTestHost.Accepted(host));

        var stopping = host.StopAsync();
        // The listening sockets close before Kestrel starts draining: new connections are refused while the
        // in-flight requests are still running.
        await TestWaits.WaitUntilAsync(() => IsRefused(port), "the port to refuse connections");
        Assert.False(stopping.IsCompleted);

        release.SetResult();
        foreach (var request in requests)
        {
            var response = await request.WaitAsync(TunedTcpTestHost.Bound);
            Assert.StartsWith("HTTP/1.1 200", response, StringComparison.Ordinal);
            Assert.Contains("\r\n\r\n4\r\ndone\r\n0\r\n\r\n", response, StringComparison.Ordinal);
        }

        await stopping.WaitAsync(TunedTcpTestHost.Bound);
    }

    [Theory]
    [InlineData(TcpEngine.Epoll)]
    [InlineData(TcpEngine.IoUring)]
    public async Task RequestPastTheDrainDeadline_IsAborted_AndTheHostExits(TcpEngine engine)
    {
        if (IoUringTcpTestSupport.Unavailable(engine, output))
        {
            return;
        }

        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var aborted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var host = await TunedTcpTestHost.StartAsync(
            o => { o.AcceptLoops = 2; o.Engine = engine; },
            k => k.Listen(IPAddress.Loopback, 0),
            async ctx =>
            {
                started.TrySetResult();
                try
                {
                    await Task.Delay(Timeout.Infinite, ctx.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                    aborted.TrySetResult();
                }
            },
            shutdownTimeout: TimeSpan.FromSeconds(1));
        var port = TunedTcpTestHost.Port(host);

        var request = TunedTcpTestHost.RawGetAsync(port);
        await started.Task.WaitAsync(TunedTcpTestHost.Bound);

        // The bound is far above the 1 s drain deadline; Kestrel aborts the connection at the deadline.
        await host.StopAsync().WaitAsync(TunedTcpTestHost.Bound);
        await aborted.Task.WaitAsync(TunedTcpTestHost.Bound);
        var response = await CatchAsync(request);
        Assert.DoesNotContain("200", response, StringComparison.Ordinal);
        Assert.True(IsRefused(port));
    }

    private static async Task<string> CatchAsync(Task<string> request)
    {
        try
        {
            return await request.WaitAsync(TunedTcpTestHost.Bound);
        }
        catch (SocketException e)
        {
            return e.SocketErrorCode.ToString();
        }
    }

    private static bool IsRefused(int port)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Connect(IPAddress.Loopback, port);
            return false;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
        {
            return true;
        }
    }
}
