using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Hosting;

namespace KcpKestrel.Transport.Tcp.Tests;

public sealed class ConnectionLimitTests
{
    [Fact]
    public async Task ConnectionsPastTheLimit_AreClosedAtAccept_AndCounted()
    {
        using var host = await TunedTcpTestHost.StartAsync(
            o => { o.AcceptLoops = 1; o.MaxConnections = 2; },
            k => k.Listen(IPAddress.Loopback, 0, lo => lo.Run(EchoAsync)));
        var listener = TunedTcpTestHost.Listener(host);
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
