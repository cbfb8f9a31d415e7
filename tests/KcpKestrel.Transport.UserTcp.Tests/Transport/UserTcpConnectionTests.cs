using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using KcpKestrel.Transport.UserTcp.Connections;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace KcpKestrel.Transport.UserTcp.Tests.Transport;

/// <summary>
/// The transport's connection over the stack, with ConnectionHandlers on Kestrel: echo, a slow reader (the TCP window
/// closes, nothing is lost), aborts (RST) both ways, half-close, a refused connect, and no allocation on the loops in
/// steady state.
/// </summary>
public sealed class UserTcpConnectionTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task EchoesThroughAConnectionHandler(bool ipv6)
    {
        await using var pair = await UserTcpPair.StartAsync(listen => listen.UseConnectionHandler<EchoConnectionHandler>(), ipv6: ipv6);
        await using var connection = await pair.Client.ConnectAsync(pair.ServerEndPoint);

        var data = new byte[1 << 20];
        new Random(5).NextBytes(data);
        var reading = TestWaits.ReadExactlyAsync(connection.Transport.Input, data.Length);
        var random = new Random(6);
        for (var offset = 0; offset < data.Length;)
        {
            var chunk = Math.Min(data.Length - offset, random.Next(1, 40_000));
            await connection.Transport.Output.WriteAsync(data.AsMemory(offset, chunk));
            offset += chunk;
        }

        Assert.Equal(data, await reading.WaitAsync(TestWaits.Bound));
        Assert.Equal(pair.ServerEndPoint, connection.RemoteEndPoint);
        Assert.Equal(ipv6 ? UserTcpPair.ClientAddressV6 : UserTcpPair.ClientAddress, ((IPEndPoint)connection.LocalEndPoint!).Address);
    }

    // Both directions carry data and out-of-order data under loss: full data segments must leave out SACK blocks
    // (options come out of the MSS), else they exceed the MTU and never leave (this stalled 1 run in 3).
    [Fact]
    public async Task EchoesByteExactOverALossyLink()
    {
        static void Fast(UserTcpOptions o) => o.MinRto = TimeSpan.FromMilliseconds(20);
        await using var pair = await UserTcpPair.StartAsync(listen => listen.UseConnectionHandler<EchoConnectionHandler>(), serverOptions: Fast, clientOptions: Fast, seed: 23);
        await using var connection = await pair.Client.ConnectAsync(pair.ServerEndPoint);
        pair.Link.LossRate = 0.03;

        var data = Pattern(512 * 1024);
        var reading = TestWaits.ReadExactlyAsync(connection.Transport.Input, data.Length);
        try
        {
            await connection.Transport.Output.WriteAsync(data).AsTask().WaitAsync(TestWaits.Bound);
            Assert.Equal(data, await reading.WaitAsync(TestWaits.Bound));
        }
        catch (TimeoutException)
        {
            var tcp = ((UserTcpConnection)connection).Tcp;
            static string Dump(object o) => string.Join(" ", o.GetType().GetFields().Where(f => f.GetValue(o) is long v && v != 0).Select(f => $"{f.Name}={f.GetValue(o)}"));
            var server = ServerLoop(pair);
            Assert.Fail(((UserTcpConnection)connection).Describe() + " " + await pair.Client.Runtime.Loops[0].Loop.InvokeAsync(_ => tcp.GetStatistics().ToString())
                + "\nclient: " + Dump(pair.Client.Runtime.Loops[0].TcpCounters) + "\nserver: " + Dump(pair.Server.Services.GetServices<IConnectionListenerFactory>().OfType<UserTcpConnectionListenerFactory>().Single().Listeners[0].Runtime!.Loops[0].TcpCounters) + "\nlink: " + pair.Link.A + " / " + pair.Link.B);
        }
        var client = pair.Client.Runtime.Loops[0].TcpCounters;
        Assert.True(client.Retransmits > 0, "nothing was retransmitted: the link lost nothing?");
    }

    [Fact]
    public async Task ASlowReaderClosesTheWindowAndLosesNothing()
    {
        const int Size = 4 << 20;
        const int ClientBuffer = 16 * 1024;
        await using var pair = await UserTcpPair.StartAsync(
            listen => listen.Run(async connection =>
            {
                await connection.Transport.Output.WriteAsync(Pattern(Size));
                await connection.Transport.Output.CompleteAsync();
                await TestWaits.ReadToEndAsync(connection.Transport.Input);
            }),
            clientOptions: o =>
            {
                o.ReceiveBufferSize = ClientBuffer;
                o.MaxReadBufferSize = ClientBuffer;
            });
        await using var connection = await pair.Client.ConnectAsync(pair.ServerEndPoint);
        var tcp = ((UserTcpConnection)connection).Tcp;
        var loop = pair.Client.Runtime.Loops[0].Loop;

        // Slow: the app reads nothing for a while, a few times; TCP's receive buffer fills (its window is then 0, or
        // less than an MSS: receiver SWS avoidance keeps the last partial MSS unannounced).
        var received = new MemoryStream();
        var fullSeen = 0;
        var seen = new List<int>();
        for (var i = 0; i < 5; i++)
        {
            await Task.Delay(50);
            var held = await loop.InvokeAsync(_ => tcp.ReceivableBytes);
            seen.Add(held);
            if (held >= ClientBuffer - 1460)
            {
                fullSeen++;
            }

            var result = await connection.Transport.Input.ReadAsync();
            foreach (var segment in result.Buffer)
            {
                received.Write(segment.Span);
            }

            connection.Transport.Input.AdvanceTo(result.Buffer.End);
        }

        Assert.True(fullSeen > 0, $"the client's receive buffer never filled while its app was not reading: {string.Join(",", seen)}");

        // Then fast, to the end.
        while (true)
        {
            var result = await connection.Transport.Input.ReadAsync().AsTask().WaitAsync(TestWaits.Bound);
            foreach (var segment in result.Buffer)
            {
                received.Write(segment.Span);
            }

            connection.Transport.Input.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                break;
            }
        }

        Assert.Equal(Pattern(Size), received.ToArray());
    }

    [Fact]
    public async Task AServerAbortResetsTheClient()
    {
        await using var pair = await UserTcpPair.StartAsync(listen => listen.Run(async connection =>
        {
            await connection.Transport.Input.ReadAsync();
            connection.Abort(new ConnectionAbortedException("test"));
        }));
        await using var connection = await pair.Client.ConnectAsync(pair.ServerEndPoint);

        await connection.Transport.Output.WriteAsync(new byte[] { 1 });
        await Assert.ThrowsAsync<ConnectionResetException>(() => TestWaits.ReadToEndAsync(connection.Transport.Input).WaitAsync(TestWaits.Bound));
        await TestWaits.WaitAsync(connection.ConnectionClosed, "the client's ConnectionClosed");
        await TestWaits.WaitUntilAsync(() => pair.Client.Runtime.Loops[0].TcpCounters.ResetsReceived == 1, "the client to count the reset");
    }

    [Fact]
    public async Task AClientAbortReachesTheServerApp()
    {
        var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var readFailed = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var pair = await UserTcpPair.StartAsync(listen => listen.Run(async connection =>
        {
            connection.ConnectionClosed.Register(() => closed.TrySetResult());
            try
            {
                await TestWaits.ReadToEndAsync(connection.Transport.Input);
                readFailed.TrySetResult(null);
            }
            catch (Exception e)
            {
                readFailed.TrySetResult(e);
            }
        }));
        var connection = await pair.Client.ConnectAsync(pair.ServerEndPoint);
        await connection.Transport.Output.WriteAsync(new byte[] { 1, 2, 3 });

        connection.Abort(new ConnectionAbortedException("test"));

        await closed.Task.WaitAsync(TestWaits.Bound);
        Assert.IsType<ConnectionResetException>(await readFailed.Task.WaitAsync(TestWaits.Bound));
        await connection.DisposeAsync();

        // The client's loop counts the abort just after sending the RST, so the server may see the RST first.
        await TestWaits.WaitUntilAsync(() => pair.Client.Runtime.Loops[0].TcpCounters.Aborted == 1, "the client's abort to be counted");
    }

    [Fact]
    public async Task HalfCloseLetsTheServerAnswerAfterTheClientsFin()
    {
        // The server reads to the client's FIN, then answers with everything it read, reversed, and closes.
        var serverRead = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var pair = await UserTcpPair.StartAsync(listen => listen.Run(async connection =>
        {
            var all = await TestWaits.ReadToEndAsync(connection.Transport.Input);
            serverRead.TrySetResult(all.Length);
            Array.Reverse(all);
            await connection.Transport.Output.WriteAsync(all);
            await connection.Transport.Output.CompleteAsync();
        }));
        await using var connection = await pair.Client.ConnectAsync(pair.ServerEndPoint);

        var data = Pattern(300_000);
        await connection.Transport.Output.WriteAsync(data);
        await connection.Transport.Output.CompleteAsync(); // FIN: the client's side is done writing, not reading

        var answer = await TestWaits.ReadToEndAsync(connection.Transport.Input).WaitAsync(TestWaits.Bound);
        var serverCount = await serverRead.Task;
        Assert.True(data.Length == serverCount, $"server read {serverCount}; client {((UserTcpConnection)connection).Describe()} answer starts ok: {answer.AsSpan(0, 100).SequenceEqual(data.AsSpan(data.Length - 100).ToArray().Reverse().ToArray())}");
        Assert.Equal(data.Length, answer.Length);
        Array.Reverse(data);
        Assert.Equal(data, answer);
        await TestWaits.WaitUntilAsync(() => pair.Client.Runtime.Loops[0].TcpCounters.ClosedNormally == 1, "the client's connection to close normally");
    }

    [Fact]
    public async Task AConnectToAClosedPortIsRefused()
    {
        await using var pair = await UserTcpPair.StartAsync(listen => listen.Run(EchoAsync));

        var error = await Assert.ThrowsAsync<SocketException>(() => pair.Client.ConnectAsync(new IPEndPoint(UserTcpPair.ServerAddress, 9)).AsTask().WaitAsync(TestWaits.Bound));

        Assert.Equal(SocketError.ConnectionRefused, error.SocketErrorCode);
    }

    [Fact]
    public async Task TheLoopsAllocateNothingPerMessageInSteadyState()
    {
        await using var pair = await UserTcpPair.StartAsync(listen => listen.Run(EchoAsync));
        await using var connection = await pair.Client.ConnectAsync(pair.ServerEndPoint);
        var message = new byte[1024];
        var clientLoop = pair.Client.Runtime.Loops[0].Loop;
        var serverLoop = ((UserTcpConnection)connection).Tcp is { } ? ServerLoop(pair) : null!;

        await PingPongAsync(connection, message, 500);
        var clientBefore = await clientLoop.InvokeAsync(_ => GC.GetAllocatedBytesForCurrentThread());
        var serverBefore = await serverLoop.InvokeAsync(_ => GC.GetAllocatedBytesForCurrentThread());
        const int Rounds = 2000;
        await PingPongAsync(connection, message, Rounds);
        var clientBytes = await clientLoop.InvokeAsync(_ => GC.GetAllocatedBytesForCurrentThread()) - clientBefore;
        var serverBytes = await serverLoop.InvokeAsync(_ => GC.GetAllocatedBytesForCurrentThread()) - serverBefore;

        // A few hundred bytes are the measurement's own (its work item's completion); per message there must be none.
        Assert.True(clientBytes < 2048, $"the client loop allocated {clientBytes} B over {Rounds} round trips");
        Assert.True(serverBytes < 2048, $"the server loop allocated {serverBytes} B over {Rounds} round trips");
    }

    private static Io.UserTcpLoop ServerLoop(UserTcpPair pair)
    {
        foreach (var factory in Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetServices<IConnectionListenerFactory>(pair.Server.Services))
        {
            if (factory is UserTcpConnectionListenerFactory userTcp)
            {
                return userTcp.Listeners[0].Runtime!.Loops[0].Loop;
            }
        }

        throw new InvalidOperationException("no user-space TCP listener");
    }

    private static async Task PingPongAsync(ConnectionContext connection, byte[] message, int rounds)
    {
        for (var i = 0; i < rounds; i++)
        {
            await connection.Transport.Output.WriteAsync(message);
            var remaining = message.Length;
            while (remaining > 0)
            {
                var result = await connection.Transport.Input.ReadAsync();
                var take = (int)Math.Min(remaining, result.Buffer.Length);
                remaining -= take;
                connection.Transport.Input.AdvanceTo(result.Buffer.GetPosition(take));
            }
        }
    }

    private static async Task EchoAsync(ConnectionContext connection)
    {
        var input = connection.Transport.Input;
        var output = connection.Transport.Output;
        while (true)
        {
            var result = await input.ReadAsync();
            foreach (var segment in result.Buffer)
            {
                await output.WriteAsync(segment);
            }

            input.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                await output.CompleteAsync();
                return;
            }
        }
    }

    private static byte[] Pattern(int count)
    {
        var bytes = new byte[count];
        new Random(count).NextBytes(bytes);
        return bytes;
    }
}
