using KcpKestrel.Transport.Kcp.Client;
using KcpKestrel.Transport.Kcp.Listener;
using KcpKestrel.Transport.Kcp.Tests.Infrastructure;
using Microsoft.AspNetCore.Connections;
using static KcpKestrel.Tests.Shared.TestWaits;

namespace KcpKestrel.Transport.Kcp.Tests;

public sealed class CloseAndAbortTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    /// <summary>Close and abort on each I/O path: the native one and the portable Socket fallback.</summary>
    private static Task<Listener.KcpConnectionListener> BindAsync(string ioPath) =>
        DirectListener.BindAsync(k => { k.Crypt = "aes"; k.Key = "k"; k.IoLoopCount = 1; UdpIoPath.Force(k, ioPath); });

    private static Client.KcpConnectionFactory ClientFactory(string ioPath) =>
        KcpTestHost.Client(k => { k.Key = "k"; UdpIoPath.Force(k, ioPath); }).CreateFactory();

    [Theory]
    [InlineData(UdpIoPath.Native)]
    [InlineData(UdpIoPath.IoUring)]
    [InlineData(UdpIoPath.Socket)]
    public async Task ClientCompletesOutput_ServerReadsToTheEnd_ThenSeesClose(string ioPath)
    {
        await using var listener = await BindAsync(ioPath);
        await using var factory = ClientFactory(ioPath);

        var client = await factory.ConnectAsync(listener.EndPoint);
        await client.Transport.Output.WriteAsync("hello, then goodbye"u8.ToArray());
        await client.Transport.Output.CompleteAsync();

        var server = await listener.AcceptAsync().AsTask().WaitAsync(Timeout);
        Assert.NotNull(server);
        var received = await ReadToEndAsync(server.Transport.Input).WaitAsync(Timeout);
        Assert.Equal("hello, then goodbye", System.Text.Encoding.UTF8.GetString(received));
        await WaitAsync(server.ConnectionClosed);
        Assert.Equal(KcpCloseReason.RemoteClose, server.Features.Get<IKcpSessionFeature>()!.CloseReason);
        await WaitAsync(client.ConnectionClosed);
        Assert.Equal(KcpCloseReason.LocalClose, client.Features.Get<IKcpSessionFeature>()!.CloseReason);
        await server.DisposeAsync();
        await client.DisposeAsync();
    }

    [Theory]
    [InlineData(UdpIoPath.Native)]
    [InlineData(UdpIoPath.IoUring)]
    [InlineData(UdpIoPath.Socket)]
    public async Task ServerAbort_ReachesTheClient(string ioPath)
    {
        await using var listener = await BindAsync(ioPath);
        await using var factory = ClientFactory(ioPath);

        var client = await factory.ConnectAsync(listener.EndPoint);
        await client.Transport.Output.WriteAsync(new byte[] { 1 });
        var server = (await listener.AcceptAsync().AsTask().WaitAsync(Timeout))!;
        var first = await server.Transport.Input.ReadAsync().AsTask().WaitAsync(Timeout);
        server.Transport.Input.AdvanceTo(first.Buffer.End);

        server.Abort(new ConnectionAbortedException("test abort"));

        await WaitAsync(client.ConnectionClosed);
        var read = await client.Transport.Input.ReadAsync().AsTask().WaitAsync(Timeout);
        Assert.True(read.IsCompleted);
        Assert.Equal(KcpCloseReason.RemoteClose, client.Features.Get<IKcpSessionFeature>()!.CloseReason);
        Assert.Equal(KcpCloseReason.Aborted, server.Features.Get<IKcpSessionFeature>()!.CloseReason);
        await server.DisposeAsync();
        await client.DisposeAsync();
    }

    [Theory]
    [InlineData(UdpIoPath.Native)]
    [InlineData(UdpIoPath.IoUring)]
    [InlineData(UdpIoPath.Socket)]
    public async Task ClientAbort_ReachesTheServer(string ioPath)
    {
        await using var listener = await BindAsync(ioPath);
        await using var factory = ClientFactory(ioPath);

        var client = await factory.ConnectAsync(listener.EndPoint);
        await client.Transport.Output.WriteAsync(new byte[] { 1 });
        var server = (await listener.AcceptAsync().AsTask().WaitAsync(Timeout))!;

        client.Abort(new ConnectionAbortedException("client gives up"));

        await WaitAsync(server.ConnectionClosed);
        Assert.Equal(KcpCloseReason.RemoteClose, server.Features.Get<IKcpSessionFeature>()!.CloseReason);
        await server.DisposeAsync();
        await client.DisposeAsync();
    }

    [Fact]
    public async Task Unbind_StopsNewSessions_LiveOnesKeepWorking()
    {
        await using var listener = await DirectListener.BindAsync(k => { k.Crypt = "aes"; k.Key = "k"; k.IoLoopCount = 1; });
        await using var factory = KcpTestHost.Client(k => k.Key = "k").CreateFactory();
        var client = await factory.ConnectAsync(listener.EndPoint);
        await client.Transport.Output.WriteAsync(new byte[] { 1 });
        var server = (await listener.AcceptAsync().AsTask().WaitAsync(Timeout))!;
        var echo = Task.Run(() => server.Transport.Input.CopyToAsync(server.Transport.Output));

        await listener.UnbindAsync();
        Assert.Null(await listener.AcceptAsync().AsTask().WaitAsync(Timeout));

        // The live session still echoes.
        var payload = new byte[64 * 1024];
        Random.Shared.NextBytes(payload);
        await client.Transport.Output.WriteAsync(payload);
        var back = new byte[payload.Length + 1];
        var got = 0;
        while (got < back.Length)
        {
            var result = await client.Transport.Input.ReadAsync().AsTask().WaitAsync(Timeout);
            foreach (var segment in result.Buffer)
            {
                segment.Span.CopyTo(back.AsSpan(got));
                got += segment.Length;
            }

            client.Transport.Input.AdvanceTo(result.Buffer.End);
        }

        Assert.Equal(payload, back[1..]);

        // A new dial gets no answer: the listener no longer opens sessions.
        var noRetry = new Client.KcpClientOptions { Kcp = new KcpOptions { Key = "k" }, ConnectTimeout = TimeSpan.FromMilliseconds(600), ConnectRetries = 0 };
        await using var impatient = new Client.KcpConnectionFactory(noRetry);
        await Assert.ThrowsAsync<Polly.Timeout.TimeoutRejectedException>(async () => await impatient.ConnectAsync(listener.EndPoint));
        Assert.True(listener.Counters.DroppedUnbound > 0);

        await client.DisposeAsync();
        await echo.WaitAsync(Timeout);
        await server.DisposeAsync();
    }
}
