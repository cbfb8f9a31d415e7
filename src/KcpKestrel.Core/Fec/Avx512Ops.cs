using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using X86 = System.Runtime.Intrinsics.X86;

namespace KcpKestrel.Core.Fec;

internal readonly unsafe struct Avx512Ops : IGfVectorOps<Vector512<byte>>
{
    public static int Width => 64;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<byte> Load(ref byte source, nuint offset) => Vector512.LoadUnsafe(ref source, offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector512<byte> value, ref byte destination, nuint offset) => value.StoreUnsafe(ref destination, offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<byte> Xor(Vector512<byte> left, Vector512<byte> right) => left ^ right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Prepare(Vector512<byte> input, out Vector512<byte> low, out Vector512<byte> high)
    {
        var mask = Vector512.Create((byte)0x0F);
        low = input & mask;
        high = X86.Avx512BW.ShiftRightLogical(input.AsUInt16(), 4).AsByte() & mask;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<byte> Mul(Vector512<byte> low, Vector512<byte> high, byte* nibbleTables, ulong* affine, nint index)
    {
        var t = nibbleTables + (index * CodingMatrix.NibbleTableSize);
        return X86.Avx512BW.Shuffle(X86.Avx512F.BroadcastVector128ToVector512((uint*)t).AsByte(), low)
            ^ X86.Avx512BW.Shuffle(X86.Avx512F.BroadcastVector128ToVector512((uint*)(t + 16)).AsByte(), high);
    }
}
