using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using X86 = System.Runtime.Intrinsics.X86;

namespace KcpKestrel.Core.Fec;

internal readonly unsafe struct Avx2Ops : IGfVectorOps<Vector256<byte>>
{
    public static int Width => 32;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Load(ref byte source, nuint offset) => Vector256.LoadUnsafe(ref source, offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector256<byte> value, ref byte destination, nuint offset) => value.StoreUnsafe(ref destination, offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Xor(Vector256<byte> left, Vector256<byte> right) => left ^ right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Prepare(Vector256<byte> input, out Vector256<byte> low, out Vector256<byte> high)
    {
        var mask = Vector256.Create((byte)0x0F);
        low = input & mask;
        high = X86.Avx2.ShiftRightLogical(input.AsUInt16(), 4).AsByte() & mask;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Mul(Vector256<byte> low, Vector256<byte> high, byte* nibbleTables, ulong* affine, nint index)
    {
        var t = nibbleTables + (index * CodingMatrix.NibbleTableSize);
        return X86.Avx2.Shuffle(X86.Avx2.BroadcastVector128ToVector256(t), low)
            ^ X86.Avx2.Shuffle(X86.Avx2.BroadcastVector128ToVector256(t + 16), high);
    }
}
