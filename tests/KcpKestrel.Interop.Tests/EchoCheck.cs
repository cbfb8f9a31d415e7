using System.Security.Cryptography;
using Microsoft.AspNetCore.Connections;

namespace KcpKestrel.Interop.Tests;

/// <summary>Writes seeded bytes and reads them back, hashing both sides.</summary>
public static class EchoCheck
{
    public static async Task<(byte[] Sent, byte[] Received)> RunAsync(ConnectionContext connection, long bytes, int seed, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var write = Task.Run(async () =>
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var random = new Random(seed);
            var chunk = new byte[16 * 1024];
            for (long sent = 0; sent < bytes;)
            {
                var n = (int)Math.Min(chunk.Length, bytes - sent);
                random.NextBytes(chunk.AsSpan(0, n));
                hash.AppendData(chunk, 0, n);
                await connection.Transport.Output.WriteAsync(chunk.AsMemory(0, n), cts.Token);
                sent += n;
            }

            return hash.GetHashAndReset();
        });
        var read = Task.Run(async () =>
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            for (long received = 0; received < bytes;)
            {
                var result = await connection.Transport.Input.ReadAsync(cts.Token);
                foreach (var segment in result.Buffer)
                {
                    hash.AppendData(segment.Span);
                    received += segment.Length;
                }

                connection.Transport.Input.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted && received < bytes)
                {
                    throw new IOException($"Echo ended after {received} of {bytes} bytes.");
                }
            }

            return hash.GetHashAndReset();
        });
        return (await write, await read);
    }
}
