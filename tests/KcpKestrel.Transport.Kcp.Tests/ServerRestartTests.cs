using KcpKestrel.Transport.Kcp.Client;
using KcpKestrel.Transport.Kcp.Tests.Infrastructure;
using Xunit.Abstractions;

namespace KcpKestrel.Transport.Kcp.Tests;

/// <summary>Over every UDP I/O path: the close signals leave through it as the server stops, and its socket is rebound.</summary>
public sealed class ServerRestartTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(UdpIoPath.Native)]
    [InlineData(UdpIoPath.IoUring)]
    [InlineData(UdpIoPath.Socket)]
    public async Task ServerRestart_ClientsSeeACleanEnd_AndRetryReconnects(string path)
    {
        if (UdpIoPath.Unavailable(path, output))
        {
            return;
        }

        var host = await KcpTestHost.StartAsync<EchoConnectionHandler>(k => UdpIoPath.Force(k, path));
        var port = host.KcpEndPoint.IPEndPoint.Port;
        var options = KcpTestHost.Client(k => UdpIoPath.Force(k, path)).Build();
        options.ConnectTimeout = TimeSpan.FromMilliseconds(700);
        options.ConnectRetries = 20;
        options.ConnectRetryDelay = TimeSpan.FromMilliseconds(100);
        await using var factory = new KcpConnectionFactory(options);

        var client = await factory.ConnectAsync(host.KcpEndPoint);
        var (sent, received) = await StreamCheck.EchoAsync(client, 64 * 1024, 1, TimeSpan.FromSeconds(20));
        Assert.Equal(sent, received);

        // Shutting the server down ends its sessions with a close signal: the client's reads end cleanly.
        await host.DisposeAsync();
        var closed = new TaskCompletionSource();
        using var registration = client.ConnectionClosed.Register(() => closed.TrySetResult());
        await closed.Task.WaitAsync(TimeSpan.FromSeconds(20));
        var read = await client.Transport.Input.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(20));
        Assert.True(read.IsCompleted);
        Assert.Equal(KcpCloseReason.RemoteClose, client.Features.Get<IKcpSessionFeature>()!.CloseReason);
        await client.DisposeAsync();

        // A dial while the server is down keeps retrying (Polly), and lands once it is back.
        var redial = factory.ConnectAsync(new KcpEndPoint(System.Net.IPAddress.Loopback, port)).AsTask();
        await Task.Delay(1500);
        Assert.False(redial.IsCompleted, "the dial should still be retrying while the server is down");
        await using var restarted = await KcpTestHost.StartAsync<EchoConnectionHandler>(k => UdpIoPath.Force(k, path), kcpPort: port);
        var again = await redial.WaitAsync(TimeSpan.FromSeconds(30));
        (sent, received) = await StreamCheck.EchoAsync(again, 64 * 1024, 2, TimeSpan.FromSeconds(20));
        Assert.Equal(sent, received);
        await again.DisposeAsync();
    }
}
