using System.Security.Cryptography;
using Google.Protobuf;
using KcpKestrel.Http.Tests.Grpc;

namespace KcpKestrel.Http.Tests.Infrastructure;

/// <summary>Seeded pseudo-random payloads, so both ends can make the same bytes.</summary>
public static class Payloads
{
    public static byte[] Bytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>A chunk of 0 to <paramref name="maxSize"/> bytes drawn from <paramref name="random"/>.</summary>
    public static Chunk Chunk(Random random, int index, int maxSize)
    {
        var payload = new byte[random.Next(maxSize + 1)];
        random.NextBytes(payload);
        return new Chunk { Index = index, Payload = ByteString.CopyFrom(payload) };
    }

    public static string Sha256(ReadOnlySpan<byte> bytes) => Convert.ToHexString(SHA256.HashData(bytes));
}
