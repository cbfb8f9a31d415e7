using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;

namespace KcpKestrel.Protocols.Qpp;

/// <summary>
/// The pad-selecting random stream of one direction of one QPP stream, as xtaci/qpp's <c>Rand</c>:
/// xoshiro256** state, the 64-bit word in use and how many of its bytes are spent. Each word keys
/// eight bytes (byte k of the stream XORs with byte k mod 8 of the word, little-endian) and picks
/// their pad, so the cipher does not depend on how the stream is cut into writes.
/// </summary>
internal struct QppRandom
{
    private const int Pbkdf2Iterations = 128;

    /// <summary>xoshiro256** state.</summary>
    public ulong S0, S1, S2, S3;

    /// <summary>The word in use.</summary>
    public ulong Word;

    /// <summary>Bytes of <see cref="Word"/> already used, 0 to 7.</summary>
    public int Used;

    /// <summary>qpp's <c>CreatePRNG(seed)</c>: HMAC-SHA256 of a fixed label under the seed, stretched by PBKDF2-SHA1 into the state.</summary>
    public static QppRandom FromSeed(ReadOnlySpan<byte> seed)
    {
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(seed, "PERMUTATION_MATRIX_SELECTOR"u8, mac);
        Span<byte> state = stackalloc byte[32];
        Rfc2898DeriveBytes.Pbkdf2(mac, "___QUANTUM_PERMUTATION_PAD_PRNG_SALT___"u8, state, Pbkdf2Iterations, HashAlgorithmName.SHA1);
        var random = new QppRandom
        {
            S0 = BinaryPrimitives.ReadUInt64LittleEndian(state),
            S1 = BinaryPrimitives.ReadUInt64LittleEndian(state[8..]),
            S2 = BinaryPrimitives.ReadUInt64LittleEndian(state[16..]),
            S3 = BinaryPrimitives.ReadUInt64LittleEndian(state[24..]),
        };
        random.Word = Next(ref random.S0, ref random.S1, ref random.S2, ref random.S3);
        return random;
    }

    /// <summary>One xoshiro256** step over state held in locals by the caller (the cipher loops keep it in registers).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Next(ref ulong s0, ref ulong s1, ref ulong s2, ref ulong s3)
    {
        var result = ulong.RotateLeft(s1 * 5, 7) * 9;
        var t = s1 << 17;
        s2 ^= s0;
        s3 ^= s1;
        s1 ^= s2;
        s0 ^= s3;
        s2 ^= t;
        s3 = ulong.RotateLeft(s3, 45);
        return result;
    }
}
