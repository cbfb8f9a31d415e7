using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Security.Cryptography;

namespace KcpKestrel.Core.Crypto;

/// <summary>
/// kcptun's "salsa20": Salsa20/20 (golang.org/x/crypto/salsa20 XORKeyStream, 64-bit nonce, block
/// counter from 0) over <c>datagram[8..]</c>, with the first 8 bytes of the header nonce as its
/// nonce, left in clear. Own code: BouncyCastle's engine needs a fresh Init (and allocations) per packet.
/// </summary>
internal sealed class Salsa20PacketCipher : KcpHeaderPacketCipher
{
    private const int SalsaNonceSize = 8;
    private const int BlockSize = 64;
    private readonly uint[] _key = new uint[8];

    public Salsa20PacketCipher(ReadOnlySpan<byte> key)
    {
        if (key.Length != 32)
        {
            throw new ArgumentException("salsa20 needs a 32-byte key.", nameof(key));
        }

        for (var i = 0; i < 8; i++)
        {
            _key[i] = BinaryPrimitives.ReadUInt32LittleEndian(key[(i * 4)..]);
        }
    }

    public override string Name => "salsa20";

    protected override void Encrypt(Span<byte> datagram) => XorKeyStream(datagram[SalsaNonceSize..], datagram[..SalsaNonceSize], 0);

    protected override void Decrypt(ReadOnlySpan<byte> received, Span<byte> part, int offset)
    {
        // The nonce bytes are not encrypted: the keystream starts at datagram[8], block 0.
        var skip = Math.Max(0, SalsaNonceSize - offset);
        XorKeyStream(part[Math.Min(skip, part.Length)..], received[..SalsaNonceSize], (ulong)(offset + skip - SalsaNonceSize) / BlockSize);
    }

    /// <summary>Resumes at keystream block boundaries: 8 + 64k.</summary>
    protected override int ResumePoint(int length)
        => length <= SalsaNonceSize ? SalsaNonceSize : SalsaNonceSize + ((length - SalsaNonceSize + BlockSize - 1) / BlockSize * BlockSize);

    /// <summary>XORs <paramref name="data"/> with the keystream from 64-byte block <paramref name="firstBlock"/> on.</summary>
    private void XorKeyStream(Span<byte> data, ReadOnlySpan<byte> nonce, ulong firstBlock)
    {
        Span<uint> input = stackalloc uint[16];
        input[0] = 0x61707865;
        input[1] = _key[0];
        input[2] = _key[1];
        input[3] = _key[2];
        input[4] = _key[3];
        input[5] = 0x3320646e;
        input[6] = BinaryPrimitives.ReadUInt32LittleEndian(nonce);
        input[7] = BinaryPrimitives.ReadUInt32LittleEndian(nonce[4..]);
        input[8] = (uint)firstBlock;
        input[9] = (uint)(firstBlock >> 32);
        input[10] = 0x79622d32;
        input[11] = _key[4];
        input[12] = _key[5];
        input[13] = _key[6];
        input[14] = _key[7];
        input[15] = 0x6b206574;

        Span<uint> block = stackalloc uint[16];
        var keystream = MemoryMarshal.AsBytes(block);
        while (!data.IsEmpty)
        {
            Core(input, block);
            if (!BitConverter.IsLittleEndian)
            {
                for (var i = 0; i < 16; i++)
                {
                    block[i] = BinaryPrimitives.ReverseEndianness(block[i]);
                }
            }

            if (data.Length >= 64)
            {
                ref var d = ref MemoryMarshal.GetReference(data);
                ref var k = ref MemoryMarshal.GetReference(keystream);
                for (nuint o = 0; o < 64; o += 16)
                {
                    (Vector128.LoadUnsafe(ref d, o) ^ Vector128.LoadUnsafe(ref k, o)).StoreUnsafe(ref d, o);
                }

                data = data[64..];
            }
            else
            {
                for (var i = 0; i < data.Length; i++)
                {
                    data[i] ^= keystream[i];
                }

                data = default;
            }

            // 64-bit block counter in words 8 and 9.
            if (++input[8] == 0)
            {
                input[9]++;
            }
        }
    }

    private static void Core(ReadOnlySpan<uint> input, Span<uint> output)
    {
        uint x0 = input[0], x1 = input[1], x2 = input[2], x3 = input[3];
        uint x4 = input[4], x5 = input[5], x6 = input[6], x7 = input[7];
        uint x8 = input[8], x9 = input[9], x10 = input[10], x11 = input[11];
        uint x12 = input[12], x13 = input[13], x14 = input[14], x15 = input[15];
        for (var i = 0; i < 10; i++)
        {
            // columns
            x4 ^= R(x0 + x12, 7); x8 ^= R(x4 + x0, 9); x12 ^= R(x8 + x4, 13); x0 ^= R(x12 + x8, 18);
            x9 ^= R(x5 + x1, 7); x13 ^= R(x9 + x5, 9); x1 ^= R(x13 + x9, 13); x5 ^= R(x1 + x13, 18);
            x14 ^= R(x10 + x6, 7); x2 ^= R(x14 + x10, 9); x6 ^= R(x2 + x14, 13); x10 ^= R(x6 + x2, 18);
            x3 ^= R(x15 + x11, 7); x7 ^= R(x3 + x15, 9); x11 ^= R(x7 + x3, 13); x15 ^= R(x11 + x7, 18);

            // rows
            x1 ^= R(x0 + x3, 7); x2 ^= R(x1 + x0, 9); x3 ^= R(x2 + x1, 13); x0 ^= R(x3 + x2, 18);
            x6 ^= R(x5 + x4, 7); x7 ^= R(x6 + x5, 9); x4 ^= R(x7 + x6, 13); x5 ^= R(x4 + x7, 18);
            x11 ^= R(x10 + x9, 7); x8 ^= R(x11 + x10, 9); x9 ^= R(x8 + x11, 13); x10 ^= R(x9 + x8, 18);
            x12 ^= R(x15 + x14, 7); x13 ^= R(x12 + x15, 9); x14 ^= R(x13 + x12, 13); x15 ^= R(x14 + x13, 18);
        }

        output[0] = x0 + input[0];
        output[1] = x1 + input[1];
        output[2] = x2 + input[2];
        output[3] = x3 + input[3];
        output[4] = x4 + input[4];
        output[5] = x5 + input[5];
        output[6] = x6 + input[6];
        output[7] = x7 + input[7];
        output[8] = x8 + input[8];
        output[9] = x9 + input[9];
        output[10] = x10 + input[10];
        output[11] = x11 + input[11];
        output[12] = x12 + input[12];
        output[13] = x13 + input[13];
        output[14] = x14 + input[14];
        output[15] = x15 + input[15];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint R(uint v, int c) => BitOperations.RotateLeft(v, c);

    protected override void Dispose(bool disposing)
    {
        CryptographicOperations.ZeroMemory(MemoryMarshal.AsBytes(_key.AsSpan()));
        base.Dispose(disposing);
    }
}
