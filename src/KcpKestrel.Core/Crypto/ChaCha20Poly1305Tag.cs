using System.Buffers.Binary;
using System.Runtime.Intrinsics;
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

        // r, clamped, in two 64-bit limbs; s is added at the end.
        var state = new PolyState(
            BinaryPrimitives.ReadUInt64LittleEndian(polyKey) & 0x0ffffffc0fffffff,
            BinaryPrimitives.ReadUInt64LittleEndian(polyKey[8..]) & 0x0ffffffc0ffffffc);

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

    /// <summary>ChaCha20 block 0 (counter 0) under <paramref name="nonce"/>, serialized into 64 bytes; the state's four rows are vectors.</summary>
    private void Block0(ReadOnlySpan<byte> nonce, Span<byte> output)
    {
        var a0 = Vector128.Create(0x61707865u, 0x3320646e, 0x79622d32, 0x6b206574);
        var b0 = Vector128.Create(_key[0], _key[1], _key[2], _key[3]);
        var c0 = Vector128.Create(_key[4], _key[5], _key[6], _key[7]);
        var d0 = Vector128.Create(
            0u,
            BinaryPrimitives.ReadUInt32LittleEndian(nonce),
            BinaryPrimitives.ReadUInt32LittleEndian(nonce[4..]),
            BinaryPrimitives.ReadUInt32LittleEndian(nonce[8..]));
        Vector128<uint> a = a0, b = b0, c = c0, d = d0;
        for (var round = 0; round < 10; round++)
        {
            // Column round, then the diagonal round on rows rotated so the diagonals line up as columns.
            Quarter(ref a, ref b, ref c, ref d);
            b = Vector128.Shuffle(b, Vector128.Create(1u, 2, 3, 0));
            c = Vector128.Shuffle(c, Vector128.Create(2u, 3, 0, 1));
            d = Vector128.Shuffle(d, Vector128.Create(3u, 0, 1, 2));
            Quarter(ref a, ref b, ref c, ref d);
            b = Vector128.Shuffle(b, Vector128.Create(3u, 0, 1, 2));
            c = Vector128.Shuffle(c, Vector128.Create(2u, 3, 0, 1));
            d = Vector128.Shuffle(d, Vector128.Create(1u, 2, 3, 0));
        }

        WriteRow(a + a0, output);
        WriteRow(b + b0, output[16..]);
        WriteRow(c + c0, output[32..]);
        WriteRow(d + d0, output[48..]);
    }

    private static void WriteRow(Vector128<uint> row, Span<byte> output)
    {
        if (BitConverter.IsLittleEndian)
        {
            row.AsByte().CopyTo(output);
        }
        else
        {
            for (var i = 0; i < 4; i++)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(output[(i * 4)..], row.GetElement(i));
            }
        }
    }

    private static void Quarter(ref Vector128<uint> a, ref Vector128<uint> b, ref Vector128<uint> c, ref Vector128<uint> d)
    {
        a += b;
        d = RotateLeft(d ^ a, 16);
        c += d;
        b = RotateLeft(b ^ c, 12);
        a += b;
        d = RotateLeft(d ^ a, 8);
        c += d;
        b = RotateLeft(b ^ c, 7);
    }

    private static Vector128<uint> RotateLeft(Vector128<uint> v, int n) =>
        Vector128.ShiftLeft(v, n) | Vector128.ShiftRightLogical(v, 32 - n);

    /// <summary>
    /// Poly1305 accumulator in base 2^64 (h0, h1 and a few bits in h2; OpenSSL's poly1305 "u128" layout):
    /// four 64x64-bit products per block where 44-bit limbs take nine. r1's clamped low bits make
    /// 2^130 = 5 mod p a shift: h1·r1·2^128 = h1·(r1 + r1/4)·2^0 mod p.
    /// </summary>
    private struct PolyState
    {
        private readonly ulong _r0, _r1, _s1;
        private ulong _h0, _h1, _h2;

        public PolyState(ulong r0, ulong r1)
        {
            _r0 = r0;
            _r1 = r1;
            _s1 = r1 + (r1 >> 2);
        }

        /// <summary>Adds one full 16-byte block (with the 2^128 bit) and multiplies by r, partially reduced.</summary>
        public void Block(ReadOnlySpan<byte> m)
        {
            var t0 = BinaryPrimitives.ReadUInt64LittleEndian(m);
            var t1 = BinaryPrimitives.ReadUInt64LittleEndian(m[8..]);
            var h0 = _h0 + t0;
            var c = Carry(h0, t0);
            var h1 = _h1 + c;
            var c1 = Carry(h1, c);
            h1 += t1;
            c1 += Carry(h1, t1);
            var h2 = _h2 + c1 + 1;

            // d0 = h0·r0 + h1·s1; d1 = h0·r1 + h1·r0 + h2·s1; d2 = h2·r0 (h2 is a few bits: no overflow).
            var d0Hi = Math.BigMul(h0, _r0, out var d0Lo);
            MulAdd(ref d0Lo, ref d0Hi, h1, _s1);
            var d1Hi = Math.BigMul(h0, _r1, out var d1Lo);
            MulAdd(ref d1Lo, ref d1Hi, h1, _r0);
            Add(ref d1Lo, ref d1Hi, h2 * _s1);
            h2 *= _r0;

            // h2:h1:h0 = d2·2^128 + d1·2^64 + d0, then the bits above 2^130 folded back times 5.
            h0 = d0Lo;
            Add(ref d1Lo, ref d1Hi, d0Hi);
            h1 = d1Lo;
            h2 += d1Hi;
            c = (h2 >> 2) + (h2 & ~3UL);
            h2 &= 3;
            h0 += c;
            c = Carry(h0, c);
            h1 += c;
            h2 += Carry(h1, c);

            _h0 = h0;
            _h1 = h1;
            _h2 = h2;
        }

        /// <summary>1 when <paramref name="sum"/> = x + <paramref name="addend"/> wrapped, without a branch.</summary>
        private static ulong Carry(ulong sum, ulong addend) => (ulong)(sum < addend ? 1 : 0);

        private static void MulAdd(ref ulong lo, ref ulong hi, ulong a, ulong b)
        {
            var high = Math.BigMul(a, b, out var low);
            lo += low;
            hi += high + Carry(lo, low);
        }

        private static void Add(ref ulong lo, ref ulong hi, ulong value)
        {
            lo += value;
            hi += Carry(lo, value);
        }

        /// <summary>Reduces mod 2^130-5, adds s and writes the 16-byte tag.</summary>
        public readonly void Finish(ReadOnlySpan<byte> s, Span<byte> tag)
        {
            // g = h + 5: if it reaches 2^130, h was at least p and the tag is g's low 128 bits.
            var g0 = _h0 + 5;
            var c = Carry(g0, 5);
            var g1 = _h1 + c;
            c = Carry(g1, c);
            var g2 = _h2 + c;
            var mask = 0UL - (g2 >> 2);
            var h0 = (_h0 & ~mask) | (g0 & mask);
            var h1 = (_h1 & ~mask) | (g1 & mask);

            // + s, mod 2^128.
            var t0 = BinaryPrimitives.ReadUInt64LittleEndian(s);
            var t1 = BinaryPrimitives.ReadUInt64LittleEndian(s[8..]);
            h0 += t0;
            h1 += t1 + Carry(h0, t0);
            BinaryPrimitives.WriteUInt64LittleEndian(tag, h0);
            BinaryPrimitives.WriteUInt64LittleEndian(tag[8..], h1);
        }
    }
}
