using System.Net;
using System.Net.Sockets;
using KcpKestrel.Transport.Tcp.IoUring;
using Microsoft.AspNetCore.Connections;
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

    public static int OpenDescriptors() => Directory.GetFiles("/proc/self/fd").Length;

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
        var payload = new byte[size];
        new Random(seed).NextBytes(payload);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, port).WaitAsync(TestWaits.Bound);
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
