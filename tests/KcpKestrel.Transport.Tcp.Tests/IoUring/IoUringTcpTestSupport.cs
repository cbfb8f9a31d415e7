using System.Net;
using System.Net.Sockets;
using KcpKestrel.Transport.Tcp.IoUring;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;

namespace KcpKestrel.Transport.Tcp.Tests;

/// <summary>Whether the io_uring engine runs here, and an echo app and client for engine tests.</summary>
internal static class IoUringTcpTestSupport
{
    /// <summary>
    /// True (after printing a SKIPPED line with the reason) when <paramref name="engine"/> is io_uring and the
    /// kernel refuses it. xunit 2 has no dynamic skip: the test reports and returns.
    /// </summary>
    public static bool Unavailable(TcpEngine engine, ITestOutputHelper output)
    {
        if (engine != TcpEngine.IoUring || IoUringTcpSupport.WhyNot() is not { } why)
        {
            return false;
        }

        output.WriteLine($"SKIPPED: io_uring is not usable here: {why}");
        return true;
    }

    /// <summary>A bound io_uring listener with <paramref name="workers"/> workers sized by <paramref name="tuning"/>, without the factory.</summary>
    public static IoUringTcpConnectionListener Bind(IoUringTcpTuning tuning, ILogger? logger = null, int workers = 1)
    {
        var options = new TunedTcpOptions { AcceptLoops = workers, FastOpenQueueLength = 0, Engine = TcpEngine.IoUring };
        var listener = new IoUringTcpConnectionListener(new IPEndPoint(IPAddress.Loopback, 0), options, logger ?? NullLogger.Instance) { Tuning = tuning };
        listener.Bind();
        return listener;
    }

    public static int PortOf(IConnectionListener listener) => ((IPEndPoint)listener.EndPoint).Port;

    /// <summary>Echo round trips of <paramref name="size"/> bytes on <paramref name="clients"/> connections at once; true when all came back intact.</summary>
    public static async Task<bool> EchoAllAsync(IConnectionListener listener, int clients, int size, int seed = 0)
    {
        var runs = Enumerable.Range(0, clients).Select(i => EchoRoundTripAsync(PortOf(listener), size, seed + i)).ToArray();
        return (await Task.WhenAll(runs)).All(ok => ok);
    }

    /// <summary>Writes back everything read until the peer's FIN, then completes both pipes and disposes.</summary>
    public static async Task EchoAsync(ConnectionContext connection)
    {
        var input = connection.Transport.Input;
        var output = connection.Transport.Output;
        try
        {
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
                    break;
                }
            }
        }
        finally
        {
            await input.CompleteAsync();
            await output.CompleteAsync();
            await connection.DisposeAsync();
        }
    }

    /// <summary>Accepts and echoes every connection until the listener unbinds.</summary>
    public static async Task ServeEchoAsync(IConnectionListener listener)
    {
        var running = new List<Task>();
        while (await listener.AcceptAsync() is { } connection)
        {
            running.Add(EchoAsync(connection));
        }

        await Task.WhenAll(running);
    }

    /// <summary>Sends <paramref name="size"/> seeded bytes while reading the echo; returns whether they came back intact.</summary>
    public static async Task<bool> EchoRoundTripAsync(int port, int size, int seed)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, port).WaitAsync(TestWaits.Bound);
        return await EchoRoundTripAsync(socket, size, seed);
    }

    /// <summary>The same on a socket already connected; ends its sending side.</summary>
    public static async Task<bool> EchoRoundTripAsync(Socket socket, int size, int seed)
    {
        var payload = new byte[size];
        new Random(seed).NextBytes(payload);
        var sending = Task.Run(async () =>
        {
            for (var offset = 0; offset < size; offset += 8192)
            {
                await socket.SendAsync(payload.AsMemory(offset, Math.Min(8192, size - offset)));
            }

            socket.Shutdown(SocketShutdown.Send);
        });
        var received = new byte[size + 1];
        var total = 0;
        while (true)
        {
            var n = await socket.ReceiveAsync(received.AsMemory(total, received.Length - total)).AsTask().WaitAsync(TestWaits.Bound);
            if (n == 0)
            {
                break;
            }

            total += n;
            if (total > size)
            {
                return false;
            }
        }

        await sending.WaitAsync(TestWaits.Bound);
        return total == size && received.AsSpan(0, size).SequenceEqual(payload);
    }
}
