namespace KcpKestrel.Core.Fec;

/// <summary>The GF(2^8) multiply-accumulate kernels, widest last. Each kernel falls back to a narrower one for short shards.</summary>
internal enum GfKernel
{
    /// <summary>One 64 KiB product-table lookup per byte; runs everywhere.</summary>
    Scalar,

    /// <summary>Split-nibble lookup with the portable <c>Vector128</c> API (any SIMD the JIT supports, e.g. NEON).</summary>
    Vector128,

    /// <summary>Split-nibble lookup with PSHUFB, 16 bytes a step.</summary>
    Ssse3,

    /// <summary>Split-nibble lookup with VPSHUFB, 32 bytes a step.</summary>
    Avx2,

    /// <summary>Split-nibble lookup with AVX-512BW VPSHUFB, 64 bytes a step.</summary>
    Avx512BW,

    /// <summary>GF2P8AFFINEQB: one instruction multiplies a whole vector by a constant (64/32/16 bytes a step).</summary>
    Gfni,
}
