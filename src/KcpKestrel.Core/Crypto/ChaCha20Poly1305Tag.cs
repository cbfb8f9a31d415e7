using System.Buffers.Binary;
using System.Numerics;
using System.Security.Cryptography;

namespace KcpKestrel.Core.Crypto;

/// <summary>
/// The RFC 8439 ChaCha20-Poly1305 tag, computed without the platform AEAD, so a forged datagram is
/// rejected by a compare instead of the <see cref="AuthenticationTagMismatchException"/> that
/// <see cref="System.Security.Cryptography.ChaCha20Poly1305.Decrypt(ReadOnlySpan{byte}, ReadOnlySpan{byte}, ReadOnlySpan{byte}, Span{byte}, ReadOnlySpan{byte})"/>
/// throws for every bad tag. One-time Poly1305 key = the first 32 bytes of ChaCha20 block 0 under the
/// nonce; MAC over <c>AAD | pad16 | ciphertext | pad16 | le64(len AAD) | le64(len CT)</c>; here the AAD
/// is always empty. Stateless apart from the key; allocation-free; any thread.
/// </summary>
internal sealed class ChaCha20Poly1305Tag
{
    /// <summary>Tag bytes.</summary>
    public const int TagSize = 16;

    private const uint Mask26 = 0x3ffffff;
    private readonly uint[] _key = new uint[8];

    public ChaCha20Poly1305Tag(ReadOnlySpan<byte> key)
    {
        if (key.Length != 32)
        {
            throw new ArgumentException("ChaCha20-Poly1305 needs a 32-byte key.", nameof(key));
        }

        for (var i = 0; i < 8; i++)
        {
            _key[i] = BinaryPrimitives.ReadUInt32LittleEndian(key[(i * 4)..]);
        }
    }

    /// <summary>True when <paramref name="tag"/> is the tag of <paramref name="ciphertext"/> under <paramref name="nonce"/> (constant-time compare).</summary>
    public bool Verify(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> ciphertext, ReadOnlySpan<byte> tag)
    {
        Span<byte> expected = stackalloc byte[TagSize];
        Compute(nonce, default, ciphertext, expected);
        return CryptographicOperations.FixedTimeEquals(expected, tag[..TagSize]);
    }

    /// <summary>Writes the 16-byte tag of <paramref name="aad"/> and <paramref name="ciphertext"/> under the 12-byte <paramref name="nonce"/>.</summary>
    public void Compute(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> aad, ReadOnlySpan<byte> ciphertext, Span<byte> tag)
    {
        Span<byte> polyKey = stackalloc byte[64];
        Block0(nonce, polyKey);

        // r, clamped, in 26-bit limbs (poly1305-donna-32); s is added at the end.
        var r0 = BinaryPrimitives.ReadUInt32LittleEndian(polyKey) & 0x3ffffff;
        var r1 = (BinaryPrimitives.ReadUInt32LittleEndian(polyKey[3..]) >> 2) & 0x3ffff03;
        var r2 = (BinaryPrimitives.ReadUInt32LittleEndian(polyKey[6..]) >> 4) & 0x3ffc0ff;
        var r3 = (BinaryPrimitives.ReadUInt32LittleEndian(polyKey[9..]) >> 6) & 0x3f03fff;
        var r4 = (BinaryPrimitives.ReadUInt32LittleEndian(polyKey[12..]) >> 8) & 0x00fffff;
        var state = new PolyState { R0 = r0, R1 = r1, R2 = r2, R3 = r3, R4 = r4, S1 = r1 * 5, S2 = r2 * 5, S3 = r3 * 5, S4 = r4 * 5 };

        Span<byte> last = stackalloc byte[16];
        Padded(ref state, aad, last);
        Padded(ref state, ciphertext, last);
        BinaryPrimitives.WriteUInt64LittleEndian(last, (ulong)aad.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(last[8..], (ulong)ciphertext.Length);
        state.Block(last);
        state.Finish(polyKey.Slice(16, 16), tag);
        CryptographicOperations.ZeroMemory(polyKey);
    }

    /// <summary>MACs <paramref name="data"/> followed by its pad16 (a partial last block, zero-filled, is a full block).</summary>
    private static void Padded(ref PolyState state, ReadOnlySpan<byte> data, Span<byte> scratch)
    {
        var full = data.Length & ~15;
        for (var o = 0; o < full; o += 16)
        {
            state.Block(data.Slice(o, 16));
        }

        if (full < data.Length)
        {
            scratch.Clear();
            data[full..].CopyTo(scratch);
            state.Block(scratch);
        }
    }

    /// <summary>ChaCha20 block 0 (counter 0) under <paramref name="nonce"/>, serialized into 64 bytes.</summary>
    private void Block0(ReadOnlySpan<byte> nonce, Span<byte> output)
    {
        uint x0 = 0x61707865, x1 = 0x3320646e, x2 = 0x79622d32, x3 = 0x6b206574;
        uint x4 = _key[0], x5 = _key[1], x6 = _key[2], x7 = _key[3];
        uint x8 = _key[4], x9 = _key[5], x10 = _key[6], x11 = _key[7];
        uint x12 = 0;
        var x13 = BinaryPrimitives.ReadUInt32LittleEndian(nonce);
        var x14 = BinaryPrimitives.ReadUInt32LittleEndian(nonce[4..]);
        var x15 = BinaryPrimitives.ReadUInt32LittleEndian(nonce[8..]);
        uint i0 = x0, i1 = x1, i2 = x2, i3 = x3, i13 = x13, i14 = x14, i15 = x15;
        for (var round = 0; round < 10; round++)
        {
            Quarter(ref x0, ref x4, ref x8, ref x12);
            Quarter(ref x1, ref x5, ref x9, ref x13);
            Quarter(ref x2, ref x6, ref x10, ref x14);
            Quarter(ref x3, ref x7, ref x11, ref x15);
            Quarter(ref x0, ref x5, ref x10, ref x15);
            Quarter(ref x1, ref x6, ref x11, ref x12);
            Quarter(ref x2, ref x7, ref x8, ref x13);
            Quarter(ref x3, ref x4, ref x9, ref x14);
        }

        BinaryPrimitives.WriteUInt32LittleEndian(output, x0 + i0);
        BinaryPrimitives.WriteUInt32LittleEndian(output[4..], x1 + i1);
        BinaryPrimitives.WriteUInt32LittleEndian(output[8..], x2 + i2);
        BinaryPrimitives.WriteUInt32LittleEndian(output[12..], x3 + i3);
        BinaryPrimitives.WriteUInt32LittleEndian(output[16..], x4 + _key[0]);
        BinaryPrimitives.WriteUInt32LittleEndian(output[20..], x5 + _key[1]);
        BinaryPrimitives.WriteUInt32LittleEndian(output[24..], x6 + _key[2]);
        BinaryPrimitives.WriteUInt32LittleEndian(output[28..], x7 + _key[3]);
        BinaryPrimitives.WriteUInt32LittleEndian(output[32..], x8 + _key[4]);
        BinaryPrimitives.WriteUInt32LittleEndian(output[36..], x9 + _key[5]);
        BinaryPrimitives.WriteUInt32LittleEndian(output[40..], x10 + _key[6]);
        BinaryPrimitives.WriteUInt32LittleEndian(output[44..], x11 + _key[7]);
        BinaryPrimitives.WriteUInt32LittleEndian(output[48..], x12);
        BinaryPrimitives.WriteUInt32LittleEndian(output[52..], x13 + i13);
        BinaryPrimitives.WriteUInt32LittleEndian(output[56..], x14 + i14);
        BinaryPrimitives.WriteUInt32LittleEndian(output[60..], x15 + i15);
    }

    private static void Quarter(ref uint a, ref uint b, ref uint c, ref uint d)
    {
        a += b;
        d = BitOperations.RotateLeft(d ^ a, 16);
        c += d;
        b = BitOperations.RotateLeft(b ^ c, 12);
        a += b;
        d = BitOperations.RotateLeft(d ^ a, 8);
        c += d;
        b = BitOperations.RotateLeft(b ^ c, 7);
    }

    /// <summary>Poly1305 accumulator in 26-bit limbs (poly1305-donna-32).</summary>
    private struct PolyState
    {
        public uint R0, R1, R2, R3, R4, S1, S2, S3, S4;
        private uint _h0, _h1, _h2, _h3, _h4;

        /// <summary>Adds one full 16-byte block (with the 2^128 bit) and multiplies by r.</summary>
        public void Block(ReadOnlySpan<byte> m)
        {
            var h0 = _h0 + (BinaryPrimitives.ReadUInt32LittleEndian(m) & Mask26);
            var h1 = _h1 + ((BinaryPrimitives.ReadUInt32LittleEndian(m[3..]) >> 2) & Mask26);
            var h2 = _h2 + ((BinaryPrimitives.ReadUInt32LittleEndian(m[6..]) >> 4) & Mask26);
            var h3 = _h3 + ((BinaryPrimitives.ReadUInt32LittleEndian(m[9..]) >> 6) & Mask26);
            var h4 = _h4 + ((BinaryPrimitives.ReadUInt32LittleEndian(m[12..]) >> 8) | (1u << 24));

            var d0 = ((ulong)h0 * R0) + ((ulong)h1 * S4) + ((ulong)h2 * S3) + ((ulong)h3 * S2) + ((ulong)h4 * S1);
            var d1 = ((ulong)h0 * R1) + ((ulong)h1 * R0) + ((ulong)h2 * S4) + ((ulong)h3 * S3) + ((ulong)h4 * S2);
            var d2 = ((ulong)h0 * R2) + ((ulong)h1 * R1) + ((ulong)h2 * R0) + ((ulong)h3 * S4) + ((ulong)h4 * S3);
            var d3 = ((ulong)h0 * R3) + ((ulong)h1 * R2) + ((ulong)h2 * R1) + ((ulong)h3 * R0) + ((ulong)h4 * S4);
            var d4 = ((ulong)h0 * R4) + ((ulong)h1 * R3) + ((ulong)h2 * R2) + ((ulong)h3 * R1) + ((ulong)h4 * R0);

            var c = d0 >> 26;
            h0 = (uint)d0 & Mask26;
            d1 += c;
            c = d1 >> 26;
            h1 = (uint)d1 & Mask26;
            d2 += c;
            c = d2 >> 26;
            h2 = (uint)d2 & Mask26;
            d3 += c;
            c = d3 >> 26;
            h3 = (uint)d3 & Mask26;
            d4 += c;
            c = d4 >> 26;
            h4 = (uint)d4 & Mask26;
            h0 += (uint)c * 5;
            var c2 = h0 >> 26;
            h0 &= Mask26;
            h1 += c2;

            _h0 = h0;
            _h1 = h1;
            _h2 = h2;
            _h3 = h3;
            _h4 = h4;
        }

        /// <summary>Reduces mod 2^130-5, adds s and writes the 16-byte tag.</summary>
        public readonly void Finish(ReadOnlySpan<byte> s, Span<byte> tag)
        {
            uint h0 = _h0, h1 = _h1, h2 = _h2, h3 = _h3, h4 = _h4;
            var c = h1 >> 26;
            h1 &= Mask26;
            h2 += c;
            c = h2 >> 26;
            h2 &= Mask26;
            h3 += c;
            c = h3 >> 26;
            h3 &= Mask26;
            h4 += c;
            c = h4 >> 26;
            h4 &= Mask26;
            h0 += c * 5;
            c = h0 >> 26;
            h0 &= Mask26;
            h1 += c;

            // g = h + -p; keep h if h < p (g4 borrowed), else g.
            var g0 = h0 + 5;
            c = g0 >> 26;
            g0 &= Mask26;
            var g1 = h1 + c;
            c = g1 >> 26;
            g1 &= Mask26;
            var g2 = h2 + c;
            c = g2 >> 26;
            g2 &= Mask26;
            var g3 = h3 + c;
            c = g3 >> 26;
            g3 &= Mask26;
            var g4 = h4 + c - (1u << 26);

            var mask = (g4 >> 31) - 1;
            g0 &= mask;
            g1 &= mask;
            g2 &= mask;
            g3 &= mask;
            g4 &= mask;
            mask = ~mask;
            h0 = (h0 & mask) | g0;
            h1 = (h1 & mask) | g1;
            h2 = (h2 & mask) | g2;
            h3 = (h3 & mask) | g3;
            h4 = (h4 & mask) | g4;

            // h mod 2^128, then + s.
            h0 |= h1 << 26;
            h1 = (h1 >> 6) | (h2 << 20);
            h2 = (h2 >> 12) | (h3 << 14);
            h3 = (h3 >> 18) | (h4 << 8);

            var f = (ulong)h0 + BinaryPrimitives.ReadUInt32LittleEndian(s);
            BinaryPrimitives.WriteUInt32LittleEndian(tag, (uint)f);
            f = (ulong)h1 + BinaryPrimitives.ReadUInt32LittleEndian(s[4..]) + (f >> 32);
            BinaryPrimitives.WriteUInt32LittleEndian(tag[4..], (uint)f);
            f = (ulong)h2 + BinaryPrimitives.ReadUInt32LittleEndian(s[8..]) + (f >> 32);
            BinaryPrimitives.WriteUInt32LittleEndian(tag[8..], (uint)f);
            f = (ulong)h3 + BinaryPrimitives.ReadUInt32LittleEndian(s[12..]) + (f >> 32);
            BinaryPrimitives.WriteUInt32LittleEndian(tag[12..], (uint)f);
        }
    }
}
