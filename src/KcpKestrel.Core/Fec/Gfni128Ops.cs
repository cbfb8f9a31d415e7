using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using X86 = System.Runtime.Intrinsics.X86;

namespace KcpKestrel.Core.Fec;

internal readonly unsafe struct Gfni128Ops : IGfVectorOps<Vector128<byte>>
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
        low = input;
        high = input;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<byte> Mul(Vector128<byte> low, Vector128<byte> high, byte* nibbleTables, ulong* affine, nint index)
        => X86.Gfni.GaloisFieldAffineTransform(low, Vector128.Create(affine[index]).AsByte(), 0);
}
