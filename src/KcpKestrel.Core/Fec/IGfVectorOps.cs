namespace KcpKestrel.Core.Fec;

/// <summary>
/// One SIMD width/instruction set for the shared coding loop. Implemented by structs so the JIT
/// specialises and inlines <see cref="GaloisKernels"/> per kernel.
/// </summary>
internal unsafe interface IGfVectorOps<TVec>
    where TVec : struct
{
    static abstract int Width { get; }

    static abstract TVec Load(ref byte source, nuint offset);

    static abstract void Store(TVec value, ref byte destination, nuint offset);

    static abstract TVec Xor(TVec left, TVec right);

    /// <summary>Turns an input vector into what <see cref="Mul"/> consumes (nibbles, or the bytes themselves for GFNI).</summary>
    static abstract void Prepare(TVec input, out TVec low, out TVec high);

    /// <summary>Product of the prepared input with coefficient <paramref name="index"/> of the matrix.</summary>
    static abstract TVec Mul(TVec low, TVec high, byte* nibbleTables, ulong* affine, nint index);
}
