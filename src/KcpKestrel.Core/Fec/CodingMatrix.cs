namespace KcpKestrel.Core.Fec;

/// <summary>
/// A coefficient matrix (rows x cols) with its per-coefficient kernel tables precomputed, so coding
/// never builds a table on the hot path.
/// </summary>
internal sealed class CodingMatrix
{
    /// <summary>Bytes per coefficient in <see cref="NibbleTables"/>: 16 products of the low nibble, then 16 of the high nibble.</summary>
    public const int NibbleTableSize = 32;

    public CodingMatrix(byte[] coefficients, int rows, int cols)
    {
        ArgumentNullException.ThrowIfNull(coefficients);
        if (coefficients.Length != rows * cols)
        {
            throw new ArgumentException("Coefficient count must be rows * cols.", nameof(coefficients));
        }

        Rows = rows;
        Cols = cols;
        Coefficients = coefficients;
        NibbleTables = new byte[coefficients.Length * NibbleTableSize];
        AffineMatrices = new ulong[coefficients.Length];
        for (var i = 0; i < coefficients.Length; i++)
        {
            var c = coefficients[i];
            var t = NibbleTables.AsSpan(i * NibbleTableSize, NibbleTableSize);
            for (var n = 0; n < 16; n++)
            {
                t[n] = GaloisField.Mul(c, (byte)n);
                t[16 + n] = GaloisField.Mul(c, (byte)(n << 4));
            }

            AffineMatrices[i] = GaloisField.AffineMatrix(c);
        }
    }

    public int Rows { get; }

    public int Cols { get; }

    public byte[] Coefficients { get; }

    public byte[] NibbleTables { get; }

    public ulong[] AffineMatrices { get; }

    /// <summary>Bytes held, for bounding caches of decode matrices.</summary>
    public int FootprintBytes => Coefficients.Length * (1 + NibbleTableSize + sizeof(ulong));
}
