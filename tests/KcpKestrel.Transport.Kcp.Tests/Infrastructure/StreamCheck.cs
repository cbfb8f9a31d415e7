using System.Buffers;
using System.IO.Pipelines;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Connections;

namespace KcpKestrel.Transport.Kcp.Tests.Infrastructure;

/// <summary>Sends seeded pseudo-random bytes through a connection and checks the SHA-256 of what comes back.</summary>
public static class StreamCheck
{
    public static async Task<(byte[] Sent, byte[] Received)> EchoAsync(ConnectionContext connection, long bytes, int seed, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var writer = WriteAsync(connection.Transport.Output, bytes, seed, cts.Token);
        var reader = ReadAsync(connection.Transport.Input, bytes, cts.Token, connection);
        await Task.WhenAll(writer, reader);
        return (await writer, await reader);
    }

    public static async Task<byte[]> WriteAsync(PipeWriter output, long bytes, int seed, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var random = new Random(seed);
        var chunk = new byte[16 * 1024];
        long sent = 0;
        while (sent < bytes)
        {
            var n = (int)Math.Min(chunk.Length, bytes - sent);
            random.NextBytes(chunk.AsSpan(0, n));
            hash.AppendData(chunk, 0, n);
            var result = await output.WriteAsync(chunk.AsMemory(0, n), cancellationToken);
            if (result.IsCompleted)
            {
                throw new IOException($"The connection stopped taking writes after {sent} of {bytes} bytes.");
            }

            sent += n;
        }

        return hash.GetHashAndReset();
    }

    public static async Task<byte[]> ReadAsync(PipeReader input, long bytes, CancellationToken cancellationToken, ConnectionContext? connection = null)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long received = 0;
        while (received < bytes)
        {
            var result = await input.ReadAsync(cancellationToken);
            foreach (var segment in result.Buffer)
            {
                hash.AppendData(segment.Span);
                received += segment.Length;
            }

            input.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted && received < bytes)
            {
                var session = connection?.Features.Get<IKcpSessionFeature>();
                throw new IOException($"The connection ended after {received} of {bytes} bytes ({session?.CloseReason}, {session?.GetStatistics()}).");
            }
        }

        return hash.GetHashAndReset();
    }
}
