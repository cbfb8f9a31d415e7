using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Hosting;
using Xunit.Abstractions;

namespace KcpKestrel.Transport.Tcp.Tests;

public sealed class ConnectionLimitTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(TcpEngine.Epoll)]
    [InlineData(TcpEngine.IoUring)]
    public async Task ConnectionsPastTheLimit_AreClosedAtAccept_AndCounted(TcpEngine engine)
    {
        if (IoUringTcpTestSupport.Unavailable(engine, output))
        {
            return;
        }

        using var host = await TunedTcpTestHost.StartAsync(
            o => { o.AcceptLoops = 1; o.MaxConnections = 2; o.Engine = engine; },
            k => k.Listen(IPAddress.Loopback, 0, lo => lo.Run(EchoAsync)));
        var listener = Counters.Of(host);
        var port = TunedTcpTestHost.Port(host);

        using var first = await ConnectAndEchoAsync(port);
        using var second = await ConnectAndEchoAsync(port);
        Assert.Equal(2, listener.ActiveConnections);

        using (var third = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            // The reset can beat the client's connect completion on loopback, so it may surface from either call.
            Assert.False(await TryConnectAndEchoAsync(third, port), "a connection over the limit was served");
        }

        Assert.Equal(1, listener.RejectedOverLimit);
        Assert.Equal(2, listener.Accepted);

        // Closing one frees its slot once Kestrel has finished with it.
        first.Shutdown(SocketShutdown.Both);
        await TestWaits.WaitUntilAsync(() => listener.ActiveConnections == 1, "the closed connection to release its slot");
        using var fourth = await ConnectAndEchoAsync(port);
        Assert.Equal(3, listener.Accepted);
        Assert.Equal(1, listener.RejectedOverLimit);
        await host.StopAsync().WaitAsync(TunedTcpTestHost.Bound);
    }

    /// <summary>The limit's counters of the host's one listener, whichever engine it runs.</summary>
    private sealed record Counters(Func<int> Active, Func<long> Rejected, Func<long> Admitted)
    {
        public int ActiveConnections => Active();

        public long RejectedOverLimit => Rejected();

        public long Accepted => Admitted();

        public static Counters Of(IHost host)
        {
            if (TunedTcpTestHost.Factory(host).IoUringListeners.SingleOrDefault() is { } uring)
            {
                return new Counters(() => uring.ActiveConnections, () => uring.RejectedOverLimit, () => uring.Accepted);
            }

            var tuned = TunedTcpTestHost.Listener(host);
            return new Counters(() => tuned.ActiveConnections, () => tuned.RejectedOverLimit, () => tuned.Accepted);
        }
    }

    private static async Task EchoAsync(ConnectionContext connection)
    {
        while (true)
        {
            var result = await connection.Transport.Input.ReadAsync();
            foreach (var segment in result.Buffer)
            {
                await connection.Transport.Output.WriteAsync(segment);
            }

            connection.Transport.Input.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                return;
            }
        }
    }

    private static async Task<Socket> ConnectAndEchoAsync(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, port).WaitAsync(TunedTcpTestHost.Bound);
        Assert.True(await TryEchoAsync(socket), "a connection within the limit was not served");
        return socket;
    }

    private static async Task<bool> TryConnectAndEchoAsync(Socket socket, int port)
    {
        try
        {
            await socket.ConnectAsync(IPAddress.Loopback, port).WaitAsync(TunedTcpTestHost.Bound);
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionAborted)
        {
            return false;
        }

        return await TryEchoAsync(socket);
    }

    private static async Task<bool> TryEchoAsync(Socket socket)
    {
        try
        {
            await socket.SendAsync(new byte[] { 7 });
            var reply = new byte[1];
            return await socket.ReceiveAsync(reply).WaitAsync(TunedTcpTestHost.Bound) == 1 && reply[0] == 7;
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionAborted or SocketError.Shutdown)
        {
            return false;
        }
    }
}
