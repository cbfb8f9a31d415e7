namespace KcpKestrel.Core.Fec;

/// <summary>Row-major matrix arithmetic over GF(2^8), used only when building or inverting coding matrices.</summary>
internal static class GaloisMatrix
{
    /// <summary>
    /// klauspost/reedsolomon's default encoding matrix for New(k, m): a Vandermonde matrix
    /// (rows x cols = total x k, element r^c) times the inverse of its top k x k square, so the
    /// top is the identity (systematic) and any k rows stay invertible.
    /// </summary>
    public static byte[] BuildEncodingMatrix(int dataShards, int totalShards)
    {
        var vm = new byte[totalShards * dataShards];
        for (var r = 0; r < totalShards; r++)
        {
            for (var c = 0; c < dataShards; c++)
            {
                vm[(r * dataShards) + c] = GaloisField.Pow((byte)r, c);
            }
        }

        var top = vm.AsSpan(0, dataShards * dataShards).ToArray();
        if (!TryInvert(top, dataShards))
        {
            throw new InvalidOperationException("Vandermonde top square is singular.");
        }

        return Multiply(vm, totalShards, dataShards, top, dataShards);
    }

    public static byte[] Multiply(byte[] left, int leftRows, int leftCols, byte[] right, int rightCols)
    {
        var result = new byte[leftRows * rightCols];
        for (var r = 0; r < leftRows; r++)
        {
            for (var c = 0; c < rightCols; c++)
            {
                byte value = 0;
                for (var i = 0; i < leftCols; i++)
                {
                    value ^= GaloisField.Mul(left[(r * leftCols) + i], right[(i * rightCols) + c]);
                }

                result[(r * rightCols) + c] = value;
            }
        }

        return result;
    }

    /// <summary>Gauss-Jordan inversion in place; false when the matrix is singular.</summary>
    public static bool TryInvert(Span<byte> matrix, int size)
    {
        var work = new byte[size * size * 2];
        for (var r = 0; r < size; r++)
        {
            matrix.Slice(r * size, size).CopyTo(work.AsSpan(r * size * 2, size));
            work[(r * size * 2) + size + r] = 1;
        }

        var width = size * 2;
        for (var col = 0; col < size; col++)
        {
            var pivot = col;
            while (pivot < size && work[(pivot * width) + col] == 0)
            {
                pivot++;
            }

            if (pivot == size)
            {
                return false;
            }

            if (pivot != col)
            {
                for (var c = 0; c < width; c++)
                {
                    (work[(col * width) + c], work[(pivot * width) + c]) = (work[(pivot * width) + c], work[(col * width) + c]);
                }
            }

            var inv = GaloisField.Inverse(work[(col * width) + col]);
            if (inv != 1)
            {
                for (var c = 0; c < width; c++)
                {
                    work[(col * width) + c] = GaloisField.Mul(work[(col * width) + c], inv);
                }
            }

            for (var r = 0; r < size; r++)
            {
                var factor = work[(r * width) + col];
                if (r == col || factor == 0)
                {
                    continue;
                }

                for (var c = 0; c < width; c++)
                {
                    work[(r * width) + c] ^= GaloisField.Mul(factor, work[(col * width) + c]);
                }
            }
        }

        for (var r = 0; r < size; r++)
        {
            work.AsSpan((r * width) + size, size).CopyTo(matrix.Slice(r * size, size));
        }

        return true;
    }
}
