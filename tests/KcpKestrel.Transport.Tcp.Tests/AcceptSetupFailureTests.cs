using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace KcpKestrel.Transport.Tcp.Tests;

/// <summary>
/// Issue #18 item 9: a connection whose set-up fails with anything but a <see cref="SocketException"/>
/// must not end its accept loop: the accepted socket is closed, its slot freed, the error logged, and
/// the loop accepts on.
/// The epoll engine only: its set-up (a <see cref="Socket"/> and Kestrel's socket connection, which can throw) has the
/// <see cref="TunedTcpConnectionListener.CreateConnection"/> seam to fail it. The io_uring engine's set-up after an accept
/// completion is plain field assignments on the worker thread, with nothing that fails short of a bug; its accept
/// failures are covered by <see cref="IoUringFaultTests"/> (EMFILE) and the connection limit by <see cref="ConnectionLimitTests"/>.
/// </summary>
public sealed class AcceptSetupFailureTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task SetupFailure_ClosesTheSocket_FreesTheSlot_LogsAndKeepsAccepting(int loops)
    {
        var logger = new ListLogger();
        var listener = new TunedTcpConnectionListener(new IPEndPoint(IPAddress.Loopback, 0), new TunedTcpOptions { AcceptLoops = loops, MaxConnections = 1 }, logger);
        listener.Bind();
        await using var _ = listener;
        var port = ((IPEndPoint)listener.EndPoint).Port;
        var create = listener.CreateConnection;
        var failures = 0;
        var failing = true;
        listener.CreateConnection = socket =>
        {
            if (Volatile.Read(ref failing))
            {
                Interlocked.Increment(ref failures);
                throw new InvalidOperationException("injected set-up failure");
            }

            return create(socket);
        };

        // With one loop, Kestrel's own accept call runs the loop; keep one pending throughout.
        var accept = listener.AcceptAsync().AsTask();

        // Fail a connection in every loop (the kernel picks the loop by hash, so go on until each had one).
        var clients = 0;
        while (listener.GetAcceptedPerLoop().Any(n => n == 0))
        {
            Assert.True(++clients <= 200, "the connections never reached every loop");
            using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await client.ConnectAsync(IPAddress.Loopback, port).WaitAsync(TunedTcpTestHost.Bound);
            await TestWaits.WaitUntilAsync(() => Volatile.Read(ref failures) == clients, "the set-up of the connection to fail");

            // Its socket was closed and its slot freed (the limit is one: a leak would refuse all later ones).
            Assert.True(await ClosedByServerAsync(client), "the failed connection's socket stayed open");
            await TestWaits.WaitUntilAsync(() => listener.ActiveConnections == 0, "the failed connection's slot to be freed");
        }

        Assert.False(accept.IsCompleted, "a failed set-up must not end or complete the accept");
        Assert.Equal(clients, listener.AcceptErrors);
        Assert.Equal(clients, logger.Entries.Count(e => e.Level == LogLevel.Warning && e.Exception is InvalidOperationException));
        Assert.DoesNotContain(logger.Entries, e => e.Level >= LogLevel.Error);

        // Every loop still accepts: connect until each has accepted once more, serving each connection.
        Volatile.Write(ref failing, false);
        var before = listener.GetAcceptedPerLoop();
        var served = 0;
        while (listener.GetAcceptedPerLoop().Zip(before).Any(p => p.First == p.Second))
        {
            Assert.True(++served <= 200, "the connections never reached every loop");
            using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await client.ConnectAsync(IPAddress.Loopback, port).WaitAsync(TunedTcpTestHost.Bound);
            var connection = await accept.WaitAsync(TunedTcpTestHost.Bound);
            Assert.NotNull(connection);
            Assert.Equal(client.LocalEndPoint, connection.RemoteEndPoint);
            await connection.DisposeAsync();
            await TestWaits.WaitUntilAsync(() => listener.ActiveConnections == 0, "the served connection's slot to be freed");
            accept = listener.AcceptAsync().AsTask();
        }

        await listener.UnbindAsync().AsTask().WaitAsync(TunedTcpTestHost.Bound);
        Assert.Null(await accept.WaitAsync(TunedTcpTestHost.Bound));
    }

    /// <summary>Whether the server closed <paramref name="client"/> (end of stream or reset) within the bound.</summary>
    private static async Task<bool> ClosedByServerAsync(Socket client)
    {
        var buffer = new byte[16];
        try
        {
            return await client.ReceiveAsync(buffer.AsMemory(), SocketFlags.None).AsTask().WaitAsync(TunedTcpTestHost.Bound) == 0;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }
}
