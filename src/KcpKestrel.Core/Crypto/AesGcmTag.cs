using System.Buffers.Binary;
using System.Security.Cryptography;

namespace KcpKestrel.Core.Crypto;

/// <summary>
/// The AES-GCM tag of a datagram under .NET's <see cref="AesGcm"/> (no associated data), computed without
/// decrypting, so a forgery is rejected by a compare instead of the
/// <see cref="AuthenticationTagMismatchException"/> that <see cref="AesGcm.Decrypt(ReadOnlySpan{byte}, ReadOnlySpan{byte}, ReadOnlySpan{byte}, Span{byte}, ReadOnlySpan{byte})"/>
/// throws. This is the path without AES-NI (ARM64, old x86), where <see cref="AesNiGcm"/> is not available.
/// </summary>
/// <remarks>
/// Sealing an empty plaintext with the ciphertext C as associated data makes the platform compute
/// <c>GHASH_H(C, [len(C) | 0]) xor E_K(J0)</c>, on its own GHASH (PCLMULQDQ, PMULL). The tag of C as
/// ciphertext is <c>GHASH_H(C, [0 | len(C)]) xor E_K(J0)</c>: the same blocks but the last, the length block,
/// which GHASH adds times H. So the tag is that seal's tag xor <c>([len(C) | len(C)] · H)</c>, one multiply
/// in GF(2^128) per datagram, done here bit by bit without branching on H. Allocation-free.
/// </remarks>
internal sealed class AesGcmTag
{
    /// <summary>Tag bytes.</summary>
    public const int TagSize = 16;

    /// <summary>GCM's reduction constant R = 11100001 || 0^120, as the high half.</summary>
    private const ulong R = 0xE1UL << 56;

    private readonly AesGcm _gcm;

    // H = E_K(0^128), big-endian halves: bit 0 of the GCM block is the top bit of _hHi.
    private readonly ulong _hHi;
    private readonly ulong _hLo;

    /// <summary>A tag computer for <paramref name="gcm"/>, which was created with <paramref name="key"/>.</summary>
    public AesGcmTag(AesGcm gcm, ReadOnlySpan<byte> key)
    {
        _gcm = gcm;
        Span<byte> h = stackalloc byte[16];
        var keyCopy = key.ToArray();
        try
        {
            using var aes = Aes.Create();
            aes.Key = keyCopy;
            aes.EncryptEcb(stackalloc byte[16], h, PaddingMode.None);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(keyCopy);
        }

        _hHi = BinaryPrimitives.ReadUInt64BigEndian(h);
        _hLo = BinaryPrimitives.ReadUInt64BigEndian(h[8..]);
        CryptographicOperations.ZeroMemory(h);
    }

    /// <summary>True when <paramref name="tag"/> is the tag of <paramref name="ciphertext"/> under <paramref name="nonce"/> (constant-time compare).</summary>
    public bool Verify(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> ciphertext, ReadOnlySpan<byte> tag)
    {
        Span<byte> expected = stackalloc byte[TagSize];
        Compute(nonce, ciphertext, expected);
        return CryptographicOperations.FixedTimeEquals(expected, tag[..TagSize]);
    }

    /// <summary>Writes the 16-byte tag of <paramref name="ciphertext"/> under the 12-byte <paramref name="nonce"/>.</summary>
    public void Compute(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> ciphertext, Span<byte> tag)
    {
        _gcm.Encrypt(nonce, ReadOnlySpan<byte>.Empty, Span<byte>.Empty, tag[..TagSize], ciphertext);
        var bits = (ulong)ciphertext.Length * 8;
        Multiply(bits, bits, _hHi, _hLo, out var hi, out var lo);
        BinaryPrimitives.WriteUInt64BigEndian(tag, BinaryPrimitives.ReadUInt64BigEndian(tag) ^ hi);
        BinaryPrimitives.WriteUInt64BigEndian(tag[8..], BinaryPrimitives.ReadUInt64BigEndian(tag[8..]) ^ lo);
    }

    /// <summary>
    /// X · Y in GCM's field (NIST SP 800-38D, algorithm 1). Branches only on X, here a public length;
    /// Y (H, secret) enters through masks.
    /// </summary>
    private static void Multiply(ulong xHi, ulong xLo, ulong yHi, ulong yLo, out ulong zHi, out ulong zLo)
    {
        zHi = 0;
        zLo = 0;
        var vHi = yHi;
        var vLo = yLo;
        for (var i = 0; i < 128; i++)
        {
            var bit = i < 64 ? (xHi >> (63 - i)) & 1 : (xLo >> (127 - i)) & 1;
            var take = 0UL - bit;
            zHi ^= vHi & take;
            zLo ^= vLo & take;
            var carry = 0UL - (vLo & 1);
            vLo = (vLo >> 1) | (vHi << 63);
            vHi = (vHi >> 1) ^ (R & carry);
        }
    }
}
