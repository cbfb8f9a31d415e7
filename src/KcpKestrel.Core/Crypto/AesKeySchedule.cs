using System.Security.Cryptography;

namespace KcpKestrel.Core.Crypto;

/// <summary>FIPS-197 key expansion, for the AES-NI engine (which only has the round instructions).</summary>
internal static class AesKeySchedule
{
    private static readonly byte[] SBox = BuildSBox();

    /// <summary>Expands a 16/24/32-byte key into (rounds + 1) * 16 bytes of encryption round keys.</summary>
    public static byte[] Expand(ReadOnlySpan<byte> key, out int rounds)
    {
        if (key.Length is not (16 or 24 or 32))
        {
            throw new CryptographicException($"AES needs a 16, 24 or 32-byte key, not {key.Length} bytes.");
        }

        var nk = key.Length / 4;
        rounds = nk + 6;
        var words = 4 * (rounds + 1);
        var w = new byte[words * 4];
        key.CopyTo(w);
        Span<byte> temp = stackalloc byte[4];
        byte rcon = 1;
        for (var i = nk; i < words; i++)
        {
            w.AsSpan((i - 1) * 4, 4).CopyTo(temp);
            if (i % nk == 0)
            {
                var t0 = temp[0];
                temp[0] = (byte)(SBox[temp[1]] ^ rcon);
                temp[1] = SBox[temp[2]];
                temp[2] = SBox[temp[3]];
                temp[3] = SBox[t0];
                rcon = XTime(rcon);
            }
            else if (nk > 6 && i % nk == 4)
            {
                for (var j = 0; j < 4; j++)
                {
                    temp[j] = SBox[temp[j]];
                }
            }

            for (var j = 0; j < 4; j++)
            {
                w[(i * 4) + j] = (byte)(w[((i - nk) * 4) + j] ^ temp[j]);
            }
        }

        return w;
    }

    private static byte XTime(byte b) => (byte)((b << 1) ^ ((b & 0x80) != 0 ? 0x1B : 0));

    // Derived rather than typed in: multiplicative inverse in GF(2^8) then the affine map.
    private static byte[] BuildSBox()
    {
        var sbox = new byte[256];
        for (var x = 0; x < 256; x++)
        {
            var inv = x == 0 ? 0 : Inverse((byte)x);
            var s = inv ^ Rotl(inv, 1) ^ Rotl(inv, 2) ^ Rotl(inv, 3) ^ Rotl(inv, 4) ^ 0x63;
            sbox[x] = (byte)s;
        }

        return sbox;
    }

    private static int Rotl(int b, int n) => ((b << n) | (b >> (8 - n))) & 0xFF;

    private static byte Inverse(byte a)
    {
        // a^254 = a^-1 in GF(2^8).
        byte result = 1;
        var power = a;
        for (var e = 254; e > 0; e >>= 1)
        {
            if ((e & 1) != 0)
            {
                result = Multiply(result, power);
            }

            power = Multiply(power, power);
        }

        return result;
    }

    private static byte Multiply(byte a, byte b)
    {
        byte p = 0;
        while (b != 0)
        {
            if ((b & 1) != 0)
            {
                p ^= a;
            }

            a = XTime(a);
            b >>= 1;
        }

        return p;
    }
}
