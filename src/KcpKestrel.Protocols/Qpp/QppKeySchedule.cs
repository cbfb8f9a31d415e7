using System.Security.Cryptography;
using System.Text;

namespace KcpKestrel.Protocols.Qpp;

/// <summary>
/// xtaci/qpp's pad derivation (<c>NewQPP</c> with 8 qubits): the seed is stretched into seven 32-byte
/// chunks, each chunk keys an AES-256 block, and pad i is the identity permutation of 0..255
/// shuffled (Fisher–Yates) by random numbers drawn from an HMAC of "QPP_" + i in binary under chunk
/// i mod 7, re-encrypted by all seven blocks before each draw.
/// </summary>
internal static class QppKeySchedule
{
    /// <summary>Bytes in one pad: a permutation of the 256 byte values.</summary>
    public const int PadSize = 256;

    /// <summary>
    /// Bytes needed to index every permutation of 256 values: 256! takes 1684 bits. qpp's
    /// <c>QPPMinimumSeedLength(8)</c>; kcptun warns about keys shorter than this.
    /// </summary>
    public const int FullEntropySeedLength = 211;

    /// <summary>Chunks the seed is cut into: <see cref="FullEntropySeedLength"/> in 32-byte pieces, rounded up.</summary>
    public const int ChunkCount = (FullEntropySeedLength + ChunkSize - 1) / ChunkSize;

    private const int ChunkSize = 32;
    private const int Pbkdf2Iterations = 128;
    private const int ChunkDeriveIterations = 1024;
    private static readonly byte[] s_shuffleSalt = Encoding.ASCII.GetBytes("___QUANTUM_PERMUTATION_PAD_SHUFFLE_SALT___");
    private static readonly byte[] s_chunkSalt = Encoding.ASCII.GetBytes("___QUANTUM_PERMUTATION_PAD_SEED_DERIVE___");

    /// <summary>Fills <paramref name="pads"/> with the pads for <paramref name="seed"/> and <paramref name="inverse"/> with their inverses.</summary>
    public static void DerivePads(ReadOnlySpan<byte> seed, Span<byte> pads, Span<byte> inverse)
    {
        Span<byte> stretched = stackalloc byte[ChunkSize];
        scoped var material = seed;
        if (seed.Length < ChunkSize)
        {
            // Short seeds are stretched first, so the chunks below never repeat a byte pattern of a few bytes.
            Rfc2898DeriveBytes.Pbkdf2(seed, s_chunkSalt, stretched, Pbkdf2Iterations, HashAlgorithmName.SHA1);
            material = stretched;
        }

        Span<byte> chunks = stackalloc byte[ChunkCount * ChunkSize];
        Span<byte> raw = stackalloc byte[ChunkSize];
        var blocks = new Aes[ChunkCount];
        try
        {
            Span<byte> aesKey = stackalloc byte[32];
            for (var i = 0; i < ChunkCount; i++)
            {
                // The chunks overlap the seed cyclically: chunk i is seed bytes 32i.. (mod seed length).
                for (var j = 0; j < ChunkSize; j++)
                {
                    raw[j] = material[((i * ChunkSize) + j) % material.Length];
                }

                var chunk = chunks.Slice(i * ChunkSize, ChunkSize);
                Rfc2898DeriveBytes.Pbkdf2(raw, s_chunkSalt, chunk, ChunkDeriveIterations, HashAlgorithmName.SHA1);
                Rfc2898DeriveBytes.Pbkdf2(chunk, s_shuffleSalt, aesKey, Pbkdf2Iterations, HashAlgorithmName.SHA1);
                blocks[i] = Aes.Create();
                blocks[i].Key = aesKey.ToArray();
            }

            var count = pads.Length / PadSize;
            for (var p = 0; p < count; p++)
            {
                var pad = pads.Slice(p * PadSize, PadSize);
                Shuffle(chunks.Slice(p % ChunkCount * ChunkSize, ChunkSize), pad, p, blocks);
                var reverse = inverse.Slice(p * PadSize, PadSize);
                for (var v = 0; v < PadSize; v++)
                {
                    reverse[pad[v]] = (byte)v;
                }
            }
        }
        finally
        {
            foreach (var block in blocks)
            {
                block?.Dispose();
            }
        }
    }

    private static void Shuffle(ReadOnlySpan<byte> chunk, Span<byte> pad, int padId, Aes[] blocks)
    {
        for (var v = 0; v < PadSize; v++)
        {
            pad[v] = (byte)v;
        }

        // qpp formats the pad id with Go's %b: binary digits, no prefix, "0" for zero.
        Span<byte> label = stackalloc byte[4 + 16];
        "QPP_"u8.CopyTo(label);
        var length = 4;
        for (var bit = padId == 0 ? 0 : 31 - int.LeadingZeroCount(padId); bit >= 0; bit--)
        {
            label[length++] = (byte)('0' + ((padId >> bit) & 1));
        }

        Span<byte> sum = stackalloc byte[HMACSHA256.HashSizeInBytes];
        Span<byte> next = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(chunk, label[..length], sum);
        for (var i = PadSize - 1; i > 0; i--)
        {
            // Both 16-byte halves of the 32-byte value go through every block (ECB: each half on its own).
            foreach (var block in blocks)
            {
                block.EncryptEcb(sum, next, PaddingMode.None);
                next.CopyTo(sum);
            }

            var j = Remainder(sum, (uint)(i + 1));
            (pad[i], pad[j]) = (pad[j], pad[i]);
        }
    }

    /// <summary>The 256-bit big-endian number <paramref name="value"/> modulo <paramref name="divisor"/> (at most 256), without a big integer.</summary>
    private static int Remainder(ReadOnlySpan<byte> value, uint divisor)
    {
        uint remainder = 0;
        foreach (var b in value)
        {
            remainder = ((remainder << 8) | b) % divisor;
        }

        return (int)remainder;
    }
}
