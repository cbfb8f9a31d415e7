using System.Buffers.Binary;
using System.Security.Cryptography;

namespace KcpKestrel.Transport.UserTcp.Tcp;

/// <summary>
/// The stack's one secret, and the independent 128-bit keys derived from it for each use (ISNs, SYN cookies,
/// ephemeral ports), so learning one PRF's outputs says nothing about another's.
/// </summary>
internal readonly struct StackSecret
{
    /// <summary>The fewest secret bytes accepted (a SipHash key).</summary>
    public const int MinLength = 16;

    private readonly ulong _k0;
    private readonly ulong _k1;

    private StackSecret(ulong k0, ulong k1)
    {
        _k0 = k0;
        _k1 = k1;
    }

    /// <summary>
    /// The secret from <paramref name="secret"/> (at least <see cref="MinLength"/> bytes; tests pin it), or a random
    /// one when empty.
    /// </summary>
    public static StackSecret From(ReadOnlySpan<byte> secret)
    {
        Span<byte> key = stackalloc byte[MinLength];
        if (secret.IsEmpty)
        {
            RandomNumberGenerator.Fill(key);
        }
        else if (secret.Length < MinLength)
        {
            throw new ArgumentException($"The stack's secret needs at least {MinLength} bytes.", nameof(secret));
        }
        else
        {
            // Longer secrets are folded in, so every byte counts.
            Span<ulong> words = stackalloc ulong[1];
            var k0 = BinaryPrimitives.ReadUInt64LittleEndian(secret);
            var k1 = BinaryPrimitives.ReadUInt64LittleEndian(secret[8..]);
            for (var i = MinLength; i < secret.Length; i++)
            {
                words[0] = secret[i] | ((ulong)i << 8);
                k0 = SipHash.Hash(k0, k1, words);
                k1 ^= BitRotate(k0);
            }

            BinaryPrimitives.WriteUInt64LittleEndian(key, k0);
            BinaryPrimitives.WriteUInt64LittleEndian(key[8..], k1);
        }

        return new StackSecret(BinaryPrimitives.ReadUInt64LittleEndian(key), BinaryPrimitives.ReadUInt64LittleEndian(key[8..]));
    }

    /// <summary>The 128-bit key for the use named <paramref name="label"/>.</summary>
    public (ulong K0, ulong K1) Derive(ulong label)
    {
        Span<ulong> words = [label, 0];
        var k0 = SipHash.Hash(_k0, _k1, words);
        words[1] = 1;
        return (k0, SipHash.Hash(_k0, _k1, words));
    }

    private static ulong BitRotate(ulong value) => (value << 29) | (value >> 35);
}
