using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using X86 = System.Runtime.Intrinsics.X86;

namespace KcpKestrel.Core.Fec;

internal readonly unsafe struct Gfni512Ops : IGfVectorOps<Vector512<byte>>
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
        low = input;
        high = input;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<byte> Mul(Vector512<byte> low, Vector512<byte> high, byte* nibbleTables, ulong* affine, nint index)
        => X86.Gfni.V512.GaloisFieldAffineTransform(low, Vector512.Create(affine[index]).AsByte(), 0);
}
