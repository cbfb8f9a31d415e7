using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using X86 = System.Runtime.Intrinsics.X86;

namespace KcpKestrel.Core.Fec;

/// <summary>
/// out[j] = XOR over i of matrix[rows[j], i] * in[i], over one byte range of every shard.
/// Each vector step loads every input once and keeps up to four outputs in registers, so a shard
/// byte is read once per group of four outputs (the shape of klauspost's generated AVX2 code).
/// </summary>
internal static unsafe class GaloisKernels
{
    /// <summary>The fastest kernel this machine runs, picked once at start-up.</summary>
    public static GfKernel Best { get; } = PickBest();

    private static GfKernel PickBest()
    {
        if (X86.Gfni.IsSupported)
        {
            return GfKernel.Gfni;
        }

        if (X86.Avx512BW.IsSupported)
        {
            return GfKernel.Avx512BW;
        }

        if (X86.Avx2.IsSupported)
        {
            return GfKernel.Avx2;
        }

        if (X86.Ssse3.IsSupported)
        {
            return GfKernel.Ssse3;
        }

        return Vector128.IsHardwareAccelerated ? GfKernel.Vector128 : GfKernel.Scalar;
    }

    public static bool IsSupported(GfKernel kernel) => kernel switch
    {
        GfKernel.Scalar => true,
        GfKernel.Vector128 => Vector128.IsHardwareAccelerated,
        GfKernel.Ssse3 => X86.Ssse3.IsSupported,
        GfKernel.Avx2 => X86.Avx2.IsSupported,
        GfKernel.Avx512BW => X86.Avx512BW.IsSupported,
        GfKernel.Gfni => X86.Gfni.IsSupported,
        _ => false,
    };

    /// <summary>
    /// Codes <paramref name="length"/> bytes at <paramref name="offset"/> of every shard. Outputs must not
    /// alias inputs: the last vector step overlaps the previous one instead of running a scalar tail.
    /// </summary>
    public static void Code(
        GfKernel kernel,
        CodingMatrix matrix,
        ReadOnlySpan<int> rows,
        byte[][] inputs,
        byte[][] outputs,
        int offset,
        int length)
    {
        if (length <= 0 || rows.Length == 0)
        {
            return;
        }

        switch (kernel)
        {
            case GfKernel.Gfni when length >= 64 && X86.Gfni.V512.IsSupported:
                Run<Gfni512Ops, Vector512<byte>>(matrix, rows, inputs, outputs, offset, length);
                return;
            case GfKernel.Gfni when length >= 32 && X86.Gfni.V256.IsSupported:
                Run<Gfni256Ops, Vector256<byte>>(matrix, rows, inputs, outputs, offset, length);
                return;
            case GfKernel.Gfni when length >= 16:
                Run<Gfni128Ops, Vector128<byte>>(matrix, rows, inputs, outputs, offset, length);
                return;
            case GfKernel.Avx512BW when length >= 64:
                Run<Avx512Ops, Vector512<byte>>(matrix, rows, inputs, outputs, offset, length);
                return;
            case GfKernel.Avx512BW or GfKernel.Avx2 when length >= 32:
                Run<Avx2Ops, Vector256<byte>>(matrix, rows, inputs, outputs, offset, length);
                return;
            case GfKernel.Avx512BW or GfKernel.Avx2 or GfKernel.Ssse3 when length >= 16:
                Run<Ssse3Ops, Vector128<byte>>(matrix, rows, inputs, outputs, offset, length);
                return;
            case GfKernel.Vector128 when length >= 16:
                Run<PortableVector128Ops, Vector128<byte>>(matrix, rows, inputs, outputs, offset, length);
                return;
            default:
                CodeScalar(matrix, rows, inputs, outputs, offset, length);
                return;
        }
    }

    public static void CodeScalar(CodingMatrix matrix, ReadOnlySpan<int> rows, byte[][] inputs, byte[][] outputs, int offset, int length)
    {
        var cols = matrix.Cols;
        var mul = GaloisField.MulTable;
        for (var j = 0; j < rows.Length; j++)
        {
            var output = outputs[j].AsSpan(offset, length);
            var rowBase = rows[j] * cols;
            for (var i = 0; i < cols; i++)
            {
                var table = mul.AsSpan(matrix.Coefficients[rowBase + i] << 8, 256);
                var input = inputs[i].AsSpan(offset, length);
                if (i == 0)
                {
                    for (var b = 0; b < input.Length; b++)
                    {
                        output[b] = table[input[b]];
                    }
                }
                else
                {
                    for (var b = 0; b < input.Length; b++)
                    {
                        output[b] ^= table[input[b]];
                    }
                }
            }
        }
    }

    private static void Run<TOps, TVec>(CodingMatrix matrix, ReadOnlySpan<int> rows, byte[][] inputs, byte[][] outputs, int offset, int length)
        where TOps : struct, IGfVectorOps<TVec>
        where TVec : struct
    {
        fixed (byte* nibble = matrix.NibbleTables)
        fixed (ulong* affine = matrix.AffineMatrices)
        {
            var j = 0;
            for (; j + 4 <= rows.Length; j += 4)
            {
                Group<TOps, TVec, Four>(matrix.Cols, nibble, affine, rows[j..], inputs, outputs, j, offset, length);
            }

            switch (rows.Length - j)
            {
                case 3:
                    Group<TOps, TVec, Three>(matrix.Cols, nibble, affine, rows[j..], inputs, outputs, j, offset, length);
                    break;
                case 2:
                    Group<TOps, TVec, Two>(matrix.Cols, nibble, affine, rows[j..], inputs, outputs, j, offset, length);
                    break;
                case 1:
                    Group<TOps, TVec, One>(matrix.Cols, nibble, affine, rows[j..], inputs, outputs, j, offset, length);
                    break;
                default:
                    break;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Group<TOps, TVec, TCount>(
        int cols,
        byte* nibble,
        ulong* affine,
        ReadOnlySpan<int> rows,
        byte[][] inputs,
        byte[][] outputs,
        int firstOutput,
        int offset,
        int length)
        where TOps : struct, IGfVectorOps<TVec>
        where TVec : struct
        where TCount : struct, ICount
    {
        var n = TCount.Value;
        nint c0 = rows[0] * cols;
        nint c1 = n > 1 ? rows[1] * cols : 0;
        nint c2 = n > 2 ? rows[2] * cols : 0;
        nint c3 = n > 3 ? rows[3] * cols : 0;
        ref var o0 = ref At(outputs[firstOutput], offset);
        ref var o1 = ref n > 1 ? ref At(outputs[firstOutput + 1], offset) : ref o0;
        ref var o2 = ref n > 2 ? ref At(outputs[firstOutput + 2], offset) : ref o0;
        ref var o3 = ref n > 3 ? ref At(outputs[firstOutput + 3], offset) : ref o0;

        var width = TOps.Width;
        var last = (nuint)(length - width);
        nuint pos = 0;
        while (true)
        {
            if (pos > last)
            {
                pos = last;
            }

            TVec a0 = default, a1 = default, a2 = default, a3 = default;
            for (var i = 0; i < cols; i++)
            {
                var x = TOps.Load(ref At(inputs[i], offset), pos);
                TOps.Prepare(x, out var lo, out var hi);
                a0 = TOps.Xor(a0, TOps.Mul(lo, hi, nibble, affine, c0 + i));
                if (n > 1)
                {
                    a1 = TOps.Xor(a1, TOps.Mul(lo, hi, nibble, affine, c1 + i));
                }

                if (n > 2)
                {
                    a2 = TOps.Xor(a2, TOps.Mul(lo, hi, nibble, affine, c2 + i));
                }

                if (n > 3)
                {
                    a3 = TOps.Xor(a3, TOps.Mul(lo, hi, nibble, affine, c3 + i));
                }
            }

            TOps.Store(a0, ref o0, pos);
            if (n > 1)
            {
                TOps.Store(a1, ref o1, pos);
            }

            if (n > 2)
            {
                TOps.Store(a2, ref o2, pos);
            }

            if (n > 3)
            {
                TOps.Store(a3, ref o3, pos);
            }

            if (pos == last)
            {
                return;
            }

            pos += (nuint)width;
        }
    }

    // Callers validate every shard covers [offset, offset + length) before coding.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ref byte At(byte[] array, int offset) => ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(array), offset);

    private interface ICount
    {
        static abstract int Value { get; }
    }

    private readonly struct One : ICount
    {
        public static int Value => 1;
    }

    private readonly struct Two : ICount
    {
        public static int Value => 2;
    }

    private readonly struct Three : ICount
    {
        public static int Value => 3;
    }

    private readonly struct Four : ICount
    {
        public static int Value => 4;
    }
}
