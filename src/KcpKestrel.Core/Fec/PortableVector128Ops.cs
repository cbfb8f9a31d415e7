using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace KcpKestrel.Core.Fec;

/// <summary>Cross-platform split-nibble kernel: ShuffleNative is PSHUFB on x86 and TBL on Arm.</summary>
internal readonly unsafe struct PortableVector128Ops : IGfVectorOps<Vector128<byte>>
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
        low = input & Vector128.Create((byte)0x0F);
        high = Vector128.ShiftRightLogical(input, 4);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<byte> Mul(Vector128<byte> low, Vector128<byte> high, byte* nibbleTables, ulong* affine, nint index)
    {
        var t = nibbleTables + (index * CodingMatrix.NibbleTableSize);
        return Vector128.ShuffleNative(Vector128.Load(t), low) ^ Vector128.ShuffleNative(Vector128.Load(t + 16), high);
    }
}
