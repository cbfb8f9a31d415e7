using System.Buffers;
using System.IO.Pipelines;
using System.Security.Cryptography;

namespace KcpKestrel.Smux.Tests;

/// <summary>Echo server and checking client over <see cref="SmuxStream"/>s, the workloads of the session and interop tests.</summary>
internal static class SmuxTestStreams
{
    /// <summary>Accepts streams until the session closes, echoing each until the peer's FIN, then sending FIN.</summary>
    public static async Task ServeEchoAsync(SmuxSession session)
    {
        var echoes = new List<Task>();
        try
        {
            while (true)
            {
                var stream = await session.AcceptStreamAsync();
                // Finished echoes are dropped so that a long run holds only the live ones (the scale test measures the heap).
                echoes.RemoveAll(echo => echo.IsCompletedSuccessfully);
                echoes.Add(EchoAsync(stream));
            }
        }
        catch (IOException)
        {
            // The session closed.
        }

        await Task.WhenAll(echoes);
    }

    /// <summary>Copies the stream's input to its output until the input ends.</summary>
    public static async Task EchoAsync(SmuxStream stream)
    {
        try
        {
            await stream.Input.CopyToAsync(stream.Output);
        }
        catch (IOException)
        {
        }

        await stream.Input.CompleteAsync();
        await stream.Output.CompleteAsync();
    }

    /// <summary>
    /// Sends <paramref name="size"/> seeded bytes, reads the whole echo, then half-closes and reads to the end; returns
    /// whether the SHA-256 digests match. The FIN waits for the echo because smux v2 ends a writer that waits for window
    /// when the peer's FIN arrives (stream.go writeV2), as kcptun's pipes never meet (they close both ways at once).
    /// </summary>
    public static async Task<bool> ExchangeAsync(SmuxStream stream, int seed, int size)
    {
        var data = new byte[size];
        new Random(seed).NextBytes(data);
        var send = Task.Run(async () =>
        {
            for (var offset = 0; offset < size; offset += 16384)
            {
                await stream.Output.WriteAsync(data.AsMemory(offset, Math.Min(16384, size - offset)));
            }
        });

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long received = 0;
        var halfClosed = false;
        while (true)
        {
            var result = await stream.Input.ReadAsync();
            foreach (var segment in result.Buffer)
            {
                hash.AppendData(segment.Span);
            }

            received += result.Buffer.Length;
            stream.Input.AdvanceTo(result.Buffer.End);
            if (received >= size && !halfClosed)
            {
                halfClosed = true;
                await send;
                await stream.Output.CompleteAsync();
            }

            if (result.IsCompleted)
            {
                break;
            }
        }

        await stream.Input.CompleteAsync();
        await send;
        return received == size && hash.GetHashAndReset().AsSpan().SequenceEqual(SHA256.HashData(data));
    }

    /// <summary>Reads <paramref name="reader"/> until <paramref name="count"/> bytes arrived (bounded by <see cref="TestWaits.Bound"/>).</summary>
    public static async Task<byte[]> ReadExactlyAsync(PipeReader reader, int count)
    {
        var bytes = new List<byte>();
        var deadline = Environment.TickCount64 + (long)TestWaits.Bound.TotalMilliseconds;
        while (bytes.Count < count)
        {
            if (reader.TryRead(out var result))
            {
                bytes.AddRange(result.Buffer.ToArray());
                reader.AdvanceTo(result.Buffer.End);
                Assert.False(result.IsCompleted && bytes.Count < count, $"Ended after {Convert.ToHexStringLower(bytes.ToArray())}.");
                continue;
            }

            Assert.True(Environment.TickCount64 < deadline, $"Timed out after {Convert.ToHexStringLower(bytes.ToArray())}.");
            await Task.Delay(10);
        }

        return [.. bytes];
    }
}
