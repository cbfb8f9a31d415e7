namespace KcpKestrel.Core.Fec;

/// <summary>
/// GF(2^8) with the polynomial 0x11D and generator 2, the field klauspost/reedsolomon (and so kcp-go) uses.
/// </summary>
internal static class GaloisField
{
    /// <summary>The reducing polynomial x^8 + x^4 + x^3 + x^2 + 1.</summary>
    public const int Polynomial = 0x11D;

    // Doubled so that Exp[Log[a] + Log[b]] needs no modulo.
    private static readonly byte[] ExpTable = BuildExp();
    private static readonly byte[] LogTable = BuildLog(ExpTable);

    /// <summary>Full 256x256 product table: the scalar kernel's one lookup per byte.</summary>
    internal static readonly byte[] MulTable = BuildMulTable();

    private static byte[] BuildExp()
    {
        var exp = new byte[510];
        var x = 1;
        for (var i = 0; i < 255; i++)
        {
            exp[i] = (byte)x;
            exp[i + 255] = (byte)x;
            x <<= 1;
            if (x >= 256)
            {
                x ^= Polynomial;
            }
        }

        return exp;
    }

    private static byte[] BuildLog(byte[] exp)
    {
        var log = new byte[256];
        for (var i = 0; i < 255; i++)
        {
            log[exp[i]] = (byte)i;
        }

        return log;
    }

    private static byte[] BuildMulTable()
    {
        var table = new byte[256 * 256];
        for (var a = 1; a < 256; a++)
        {
            for (var b = 1; b < 256; b++)
            {
                table[(a << 8) | b] = ExpTable[LogTable[a] + LogTable[b]];
            }
        }

        return table;
    }

    public static byte Mul(byte a, byte b) => MulTable[(a << 8) | b];

    public static byte Inverse(byte a)
    {
        if (a == 0)
        {
            throw new DivideByZeroException("0 has no inverse in GF(2^8).");
        }

        return ExpTable[255 - LogTable[a]];
    }

    /// <summary>a^n, with 0^0 = 1 as klauspost's galExp defines it (the Vandermonde matrix's first row).</summary>
    public static byte Pow(byte a, int n)
    {
        if (n == 0)
        {
            return 1;
        }

        if (a == 0)
        {
            return 0;
        }

        return ExpTable[LogTable[a] * n % 255];
    }

    /// <summary>
    /// The 8x8 bit matrix of "multiply by <paramref name="c"/>" laid out for GF2P8AFFINEQB:
    /// byte 7-i of the qword selects the input bits that make output bit i.
    /// </summary>
    public static ulong AffineMatrix(byte c)
    {
        ulong result = 0;
        for (var i = 0; i < 8; i++)
        {
            ulong row = 0;
            for (var j = 0; j < 8; j++)
            {
                if ((Mul(c, (byte)(1 << j)) & (1 << i)) != 0)
                {
                    row |= 1UL << j;
                }
            }

            result |= row << (8 * (7 - i));
        }

        return result;
    }
}
