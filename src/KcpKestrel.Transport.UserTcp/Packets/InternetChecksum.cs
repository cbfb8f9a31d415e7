using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace KcpKestrel.Transport.UserTcp.Packets;

/// <summary>
/// The Internet checksum (RFC 1071): the ones' complement of the ones' complement sum of 16-bit words. The sum is
/// byte-order independent (RFC 1071 §2(B)), so data is summed as native-order words in wide lanes and swapped once at
/// the end; and since 2^16 ≡ 1 (mod 0xFFFF), any wider word sum folds down to the same 16-bit result (§2(C)).
/// Sums here are "big-endian values": what summing the data as network-order words would give, ready to combine
/// with a pseudo-header sum and to write with <see cref="BinaryPrimitives.WriteUInt16BigEndian"/>.
/// </summary>
internal static class InternetChecksum
{
    // Each 32-bit lane gains at most 4 * 2 * 0xFFFF per unrolled step; flushing every 4096 steps keeps it < 2^32.
    private const int StepsPerFlush = 4096;

    /// <summary>
    /// The folded ones' complement sum of <paramref name="data"/> (an odd last byte padded with zero), as a
    /// big-endian value. <paramref name="data"/> must start at an even offset of whatever is being checksummed.
    /// </summary>
    public static ushort Sum(ReadOnlySpan<byte> data) => FoldToBigEndian(Accumulate(data));

    /// <summary>The checksum of <paramref name="data"/> alone (e.g. an IPv4 header), as a big-endian value.</summary>
    public static ushort Checksum(ReadOnlySpan<byte> data) => (ushort)~Sum(data);

    /// <summary>Whether <paramref name="data"/>, its checksum field included, sums to all ones (it is intact).</summary>
    public static bool IsValid(ReadOnlySpan<byte> data) => Sum(data) == 0xFFFF;

    /// <summary>The ones' complement sum of two folded sums.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort Add(ushort a, ushort b)
    {
        uint s = (uint)a + b;
        return (ushort)((s & 0xFFFF) + (s >> 16));
    }

    /// <summary>The TCP checksum of a segment (checksum field zero) given its pseudo-header sum.</summary>
    public static ushort TcpChecksum(ushort pseudoHeaderSum, ReadOnlySpan<byte> segment) =>
        (ushort)~Add(pseudoHeaderSum, Sum(segment));

    /// <summary>Whether a segment, its checksum field included, is intact given its pseudo-header sum.</summary>
    public static bool IsTcpValid(ushort pseudoHeaderSum, ReadOnlySpan<byte> segment) =>
        Add(pseudoHeaderSum, Sum(segment)) == 0xFFFF;

    /// <summary>
    /// The IPv4 pseudo-header's sum (RFC 9293 §3.1): source, destination (4 bytes each), zero, protocol, and the
    /// upper-layer length.
    /// </summary>
    public static ushort PseudoHeaderSumIPv4(ReadOnlySpan<byte> source, ReadOnlySpan<byte> destination, byte protocol, int length)
    {
        ulong s = (ulong)BinaryPrimitives.ReadUInt16BigEndian(source) + BinaryPrimitives.ReadUInt16BigEndian(source[2..])
            + BinaryPrimitives.ReadUInt16BigEndian(destination) + BinaryPrimitives.ReadUInt16BigEndian(destination[2..])
            + protocol + (uint)(ushort)length;
        return Fold(s);
    }

    /// <summary>
    /// The IPv6 pseudo-header's sum (RFC 8200 §8.1): source, destination (16 bytes each), the 32-bit upper-layer
    /// length, and the next header.
    /// </summary>
    public static ushort PseudoHeaderSumIPv6(ReadOnlySpan<byte> source, ReadOnlySpan<byte> destination, byte nextHeader, int length)
    {
        ulong s = 0;
        for (int i = 0; i < 16; i += 4)
        {
            s += BinaryPrimitives.ReadUInt32BigEndian(source[i..]);
            s += BinaryPrimitives.ReadUInt32BigEndian(destination[i..]);
        }

        s += (uint)length;
        s += nextHeader;
        return Fold(s);
    }

    /// <summary>
    /// The unfolded sum of <paramref name="data"/> as native-order words: Vector256 (or Vector128) lanes, each 32-bit
    /// lane adding its low and high 16-bit words, then a scalar tail.
    /// </summary>
    internal static ulong Accumulate(ReadOnlySpan<byte> data)
    {
        ref byte p = ref MemoryMarshal.GetReference(data);
        nuint length = (nuint)data.Length;
        nuint i = 0;
        ulong sum = 0;

        if (Vector256.IsHardwareAccelerated && length >= (nuint)Vector256<byte>.Count)
        {
            var mask = Vector256.Create(0xFFFFu);
            var acc0 = Vector256<uint>.Zero;
            var acc1 = Vector256<uint>.Zero;
            int steps = 0;
            nuint size = (nuint)Vector256<byte>.Count;
            for (; i + (4 * size) <= length; i += 4 * size)
            {
                var v0 = Vector256.LoadUnsafe(ref p, i).AsUInt32();
                var v1 = Vector256.LoadUnsafe(ref p, i + size).AsUInt32();
                var v2 = Vector256.LoadUnsafe(ref p, i + (2 * size)).AsUInt32();
                var v3 = Vector256.LoadUnsafe(ref p, i + (3 * size)).AsUInt32();
                acc0 += (v0 & mask) + (v0 >>> 16) + (v1 & mask) + (v1 >>> 16);
                acc1 += (v2 & mask) + (v2 >>> 16) + (v3 & mask) + (v3 >>> 16);
                if (++steps == StepsPerFlush)
                {
                    sum += Widen(acc0) + Widen(acc1);
                    acc0 = acc1 = Vector256<uint>.Zero;
                    steps = 0;
                }
            }

            for (; i + size <= length; i += size)
            {
                var v = Vector256.LoadUnsafe(ref p, i).AsUInt32();
                acc0 += (v & mask) + (v >>> 16);
            }

            sum += Widen(acc0) + Widen(acc1);
        }

        if (Vector128.IsHardwareAccelerated && length - i >= (nuint)Vector128<byte>.Count)
        {
            var mask = Vector128.Create(0xFFFFu);
            var acc = Vector128<uint>.Zero;
            int steps = 0;
            nuint size = (nuint)Vector128<byte>.Count;
            for (; i + size <= length; i += size)
            {
                var v = Vector128.LoadUnsafe(ref p, i).AsUInt32();
                acc += (v & mask) + (v >>> 16);
                if (++steps == StepsPerFlush)
                {
                    sum += Widen(acc);
                    acc = Vector128<uint>.Zero;
                    steps = 0;
                }
            }

            sum += Widen(acc);
        }

        // Scalar tail: 32-bit words into the 64-bit sum (no overflow for any span length), then a last short and byte.
        for (; i + 4 <= length; i += 4)
        {
            sum += Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref p, i));
        }

        if (i + 2 <= length)
        {
            sum += Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref p, i));
            i += 2;
        }

        if (i < length)
        {
            // The odd byte is the high half of a network-order word padded with zero: the low half of a native one on
            // little-endian hosts.
            byte last = Unsafe.Add(ref p, i);
            sum += BitConverter.IsLittleEndian ? last : (uint)last << 8;
        }

        return sum;
    }

    /// <summary>A native-order word sum folded to 16 bits and put in big-endian value order.</summary>
    internal static ushort FoldToBigEndian(ulong nativeSum)
    {
        ushort folded = Fold(nativeSum);
        return BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(folded) : folded;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ushort Fold(ulong s)
    {
        s = (s & 0xFFFF_FFFF) + (s >> 32);
        s = (s & 0xFFFF_FFFF) + (s >> 32);
        s = (s & 0xFFFF) + (s >> 16);
        s = (s & 0xFFFF) + (s >> 16);
        s = (s & 0xFFFF) + (s >> 16);
        return (ushort)s;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Widen(Vector256<uint> v)
    {
        var (lo, hi) = Vector256.Widen(v);
        return Vector256.Sum(lo + hi);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Widen(Vector128<uint> v)
    {
        var (lo, hi) = Vector128.Widen(v);
        return Vector128.Sum(lo + hi);
    }
}
