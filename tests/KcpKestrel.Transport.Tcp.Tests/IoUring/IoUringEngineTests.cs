using System.Net;
using System.Net.Sockets;
using System.Text;
using KcpKestrel.Transport.Tcp.IoUring;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Xunit.Abstractions;

namespace KcpKestrel.Transport.Tcp.Tests;

/// <summary>The io_uring engine's own cases (with the leak checks after each); alone in their collection so the fd counts see no other test's sockets.</summary>
[Collection(nameof(IoUringTcpCollection))]
public sealed class IoUringEngineTests(ITestOutputHelper output) : IoUringTcpLeakChecks
{
    private static TunedTcpConnectionListenerFactory Factory(Action<TunedTcpOptions> tune)
    {
        var options = new TunedTcpOptions { AcceptLoops = 2, FastOpenQueueLength = 0 };
        tune(options);
        return new TunedTcpConnectionListenerFactory(Options.Create(options), NullLoggerFactory.Instance);
    }

    private static int PortOf(IConnectionListener listener) => IoUringTcpTestSupport.PortOf(listener);

    [Theory]
    [InlineData(TcpEngine.Epoll)]
    [InlineData(TcpEngine.IoUring)]
    public async Task Echo_Engine_ReturnsEveryByteOnSeveralConnections(TcpEngine engine)
    {
        if (IoUringTcpTestSupport.Unavailable(engine, output))
        {
            return;
        }

        var factory = Factory(o => o.Engine = engine);
        var listener = Track(await factory.BindAsync(new IPEndPoint(IPAddress.Loopback, 0)));
        Assert.Equal(engine == TcpEngine.IoUring, listener is IoUringTcpConnectionListener);
        var serving = IoUringTcpTestSupport.ServeEchoAsync(listener);

        // 3 MiB each: well past the input pipe's 1 MiB pause threshold, so receive pauses and resumes.
        var clients = Enumerable.Range(0, 4).Select(i => IoUringTcpTestSupport.EchoRoundTripAsync(PortOf(listener), 3 << 20, seed: i)).ToArray();
        Assert.All(await Task.WhenAll(clients), Assert.True);

        await listener.UnbindAsync();
        await serving.WaitAsync(TestWaits.Bound);
        await listener.DisposeAsync();
    }

    [Theory]
    [InlineData(TcpEngine.Epoll)]
    [InlineData(TcpEngine.IoUring)]
    public async Task PeerReset_MidReceive_CompletesInputWithConnectionReset(TcpEngine engine)
    {
        if (IoUringTcpTestSupport.Unavailable(engine, output))
        {
            return;
        }

        var listener = Track(await Factory(o => o.Engine = engine).BindAsync(new IPEndPoint(IPAddress.Loopback, 0)));
        using (var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            await client.ConnectAsync(IPAddress.Loopback, PortOf(listener)).WaitAsync(TestWaits.Bound);
            var connection = (await listener.AcceptAsync().AsTask().WaitAsync(TestWaits.Bound))!;
            await client.SendAsync(Encoding.ASCII.GetBytes("partial"));
            var first = await connection.Transport.Input.ReadAsync().AsTask().WaitAsync(TestWaits.Bound);
            connection.Transport.Input.AdvanceTo(first.Buffer.End);

            // Linger 0: the close sends RST in place of FIN.
            client.LingerState = new LingerOption(true, 0);
            client.Close();

            await Assert.ThrowsAsync<ConnectionResetException>(async () =>
            {
                while (!(await connection.Transport.Input.ReadAsync().AsTask().WaitAsync(TestWaits.Bound)).IsCompleted)
                {
                }
            });
            Assert.True(connection.ConnectionClosed.IsCancellationRequested || await ClosedAsync(connection));
            await connection.DisposeAsync().AsTask().WaitAsync(TestWaits.Bound);
        }
    }

    /// <summary>io_uring only: its listener owns the connections' I/O and must end it; the epoll engine hands each socket to Kestrel, which drains or aborts it.</summary>
    [Fact]
    public async Task Dispose_WithOperationsInFlight_CompletesAndLeaksNoDescriptor()
    {
        if (IoUringTcpTestSupport.Unavailable(TcpEngine.IoUring, output))
        {
            return;
        }

        var listener = Track(await Factory(o => o.Engine = TcpEngine.IoUring).BindAsync(new IPEndPoint(IPAddress.Loopback, 0)));
        var clients = new List<Socket>();
        var connections = new List<ConnectionContext>();
        var chunk = new byte[64 * 1024];
        var writes = new List<Task>();
        for (var i = 0; i < 8; i++)
        {
            var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            clients.Add(client);
            await client.ConnectAsync(IPAddress.Loopback, PortOf(listener)).WaitAsync(TestWaits.Bound);
            var connection = (await listener.AcceptAsync().AsTask().WaitAsync(TestWaits.Bound))!;
            connections.Add(connection);

            // In flight: a receive armed with unread input piling up, and a send the peer never reads.
            await client.SendAsync(chunk);
            writes.Add(connection.Transport.Output.WriteAsync(new byte[4 << 20]).AsTask());
        }

        await listener.DisposeAsync().AsTask().WaitAsync(TestWaits.Bound);
        foreach (var connection in connections)
        {
            Assert.True(connection.ConnectionClosed.IsCancellationRequested || await ClosedAsync(connection));
            await connection.DisposeAsync().AsTask().WaitAsync(TestWaits.Bound);
        }

        foreach (var client in clients)
        {
            client.Dispose();
        }

        // The writes stalled on the dead peer end once the transport stops reading the output.
        await Task.WhenAll(writes).WaitAsync(TestWaits.Bound);

        // The base class then checks that every descriptor (sockets, rings, eventfds) was closed and no buffer leaked.
    }

    [Fact]
    public async Task ProvidedBuffersExhausted_ReceiveRecovers_AndDeliversEveryByte()
    {
        if (IoUringTcpTestSupport.Unavailable(TcpEngine.IoUring, output))
        {
            return;
        }

        var listener = Track(IoUringTcpTestSupport.Bind(new IoUringTcpTuning { BufferCount = 2, BufferSize = 512 }));
        var serving = IoUringTcpTestSupport.ServeEchoAsync(listener);

        var clients = Enumerable.Range(0, 4).Select(i => IoUringTcpTestSupport.EchoRoundTripAsync(PortOf(listener), 1 << 20, seed: 10 + i)).ToArray();
        Assert.All(await Task.WhenAll(clients), Assert.True);
        output.WriteLine($"ENOBUFS completions: {listener.NoBuffers}");
        Assert.True(listener.NoBuffers > 0, "two 512-byte buffers for four 1 MiB streams never ran out");

        await listener.UnbindAsync();
        await serving.WaitAsync(TestWaits.Bound);
        await listener.DisposeAsync();
    }

    [Fact]
    public async Task IoUringRefused_FallsBackToTheEpollEngine()
    {
        var factory = Factory(o => o.Engine = TcpEngine.IoUring);
        factory.WhyNotIoUring = static () => "simulated: kernel.io_uring_disabled=2";
        var listener = Track(await factory.BindAsync(new IPEndPoint(IPAddress.Loopback, 0)));
        Assert.IsType<TunedTcpConnectionListener>(listener);
        Assert.Empty(factory.IoUringListeners);
        Assert.Single(factory.Listeners);
    }

    private static async Task<bool> ClosedAsync(ConnectionContext connection)
    {
        await TestWaits.WaitUntilAsync(() => connection.ConnectionClosed.IsCancellationRequested, "ConnectionClosed");
        return true;
    }
}
