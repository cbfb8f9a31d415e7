using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace KcpKestrel.Cli.Tests.KcptunInterop;

/// <summary>Drives an echo through a real TCP socket: writes seeded bytes, reads them back, hashes both sides.</summary>
public static class TcpEcho
{
    /// <summary>Returns the SHA-256 of what was sent and of what came back.</summary>
    public static async Task<(byte[] Sent, byte[] Received)> RunAsync(IPEndPoint endPoint, long bytes, int seed, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        using var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(endPoint, cts.Token);
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        var write = Task.Run(
            async () =>
            {
                using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                var random = new Random(seed);
                var chunk = new byte[32 * 1024];
                for (long sent = 0; sent < bytes;)
                {
                    var n = (int)Math.Min(chunk.Length, bytes - sent);
                    random.NextBytes(chunk.AsSpan(0, n));
                    hash.AppendData(chunk, 0, n);
                    await stream.WriteAsync(chunk.AsMemory(0, n), cts.Token);
                    sent += n;
                }

                return hash.GetHashAndReset();
            },
            cts.Token);
        var read = Task.Run(
            async () =>
            {
                using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                var buffer = new byte[64 * 1024];
                for (long received = 0; received < bytes;)
                {
                    var n = await stream.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, bytes - received)), cts.Token);
                    if (n == 0)
                    {
                        throw new IOException($"Echo ended after {received} of {bytes} bytes.");
                    }

                    hash.AppendData(buffer, 0, n);
                    received += n;
                }

                return hash.GetHashAndReset();
            },
            cts.Token);
        return (await write, await read);
    }

    /// <summary>Runs <paramref name="streams"/> echoes of <paramref name="bytes"/> each at once and checks every one.</summary>
    public static async Task CheckConcurrentAsync(IPEndPoint endPoint, int streams, long bytes, TimeSpan timeout)
    {
        var echoes = new Task<(byte[] Sent, byte[] Received)>[streams];
        for (var i = 0; i < streams; i++)
        {
            echoes[i] = RunAsync(endPoint, bytes, seed: i, timeout);
        }

        foreach (var (sent, received) in await Task.WhenAll(echoes))
        {
            Assert.Equal(sent, received);
        }
    }
}
