using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using X86 = System.Runtime.Intrinsics.X86;

namespace KcpKestrel.Core.Fec;

internal readonly unsafe struct Ssse3Ops : IGfVectorOps<Vector128<byte>>
{
    public static int Width => 16;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<byte> Load(ref byte source, nuint offset) => Vector128.LoadUnsafe(ref source, offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector128<byte> value, ref byte destination, nuint offset) => value.StoreUnsafe(ref destination, offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<byte> Xor(Vector128<byte> left, Vector128<byte> right) => left ^ right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Prepare(Vector128<byte> input, out Vector128<byte> low, out Vector128<byte> high)
    {
        var mask = Vector128.Create((byte)0x0F);
        low = input & mask;
        high = X86.Sse2.ShiftRightLogical(input.AsUInt16(), 4).AsByte() & mask;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<byte> Mul(Vector128<byte> low, Vector128<byte> high, byte* nibbleTables, ulong* affine, nint index)
    {
        var t = nibbleTables + (index * CodingMatrix.NibbleTableSize);
        return X86.Ssse3.Shuffle(X86.Sse2.LoadVector128(t), low) ^ X86.Ssse3.Shuffle(X86.Sse2.LoadVector128(t + 16), high);
    }
}
