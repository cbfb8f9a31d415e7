using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;

namespace KcpKestrel.Protocols.Snappy;

/// <summary>
/// CRC-32C (Castagnoli) on the CPU's CRC instruction (<see cref="BitOperations.Crc32C(uint, ulong)"/>:
/// SSE4.2 or ARMv8 CRC where present). One instruction stream is latency-bound (each step waits for
/// the last), so long inputs run three independent lanes and join them: the raw CRC update is linear,
/// so CRC(A‖B) = shift(CRC(A)) xor CRC₀(B), where shift advances a state over a lane of zeros.
/// System.IO.Hashing 10.0 has no Castagnoli CRC.
/// </summary>
internal static class Crc32C
{
    // Long enough to hide the join; three lanes of it fit a 64 KiB chunk five times.
    private const int LaneBytes = 4096;

    // Column i: bit i of a state advanced over LaneBytes zero bytes. The join multiplies by this matrix.
    private static readonly uint[] s_shiftOverLane = BuildShiftOverLane();

    /// <summary>The conditioned CRC-32C of <paramref name="data"/> (initial and final inversion).</summary>
    public static uint Compute(ReadOnlySpan<byte> data)
    {
        var crc = uint.MaxValue;
        while (data.Length >= 3 * LaneBytes)
        {
            var first = MemoryMarshal.Cast<byte, ulong>(data[..LaneBytes]);
            var second = MemoryMarshal.Cast<byte, ulong>(data.Slice(LaneBytes, LaneBytes));
            var third = MemoryMarshal.Cast<byte, ulong>(data.Slice(2 * LaneBytes, LaneBytes));
            var a = crc;
            var b = 0u;
            var c = 0u;
            for (var i = 0; i < first.Length; i++)
            {
                a = BitOperations.Crc32C(a, Word(first[i]));
                b = BitOperations.Crc32C(b, Word(second[i]));
                c = BitOperations.Crc32C(c, Word(third[i]));
            }

            crc = ShiftOverLane(ShiftOverLane(a) ^ b) ^ c;
            data = data[(3 * LaneBytes)..];
        }

        var words = MemoryMarshal.Cast<byte, ulong>(data);
        foreach (var word in words)
        {
            crc = BitOperations.Crc32C(crc, Word(word));
        }

        foreach (var b in data[(words.Length * sizeof(ulong))..])
        {
            crc = BitOperations.Crc32C(crc, b);
        }

        return ~crc;
    }

    // The instruction takes the word's bytes in little-endian order, as they lie in memory on x86 and ARM.
    private static ulong Word(ulong word) => BitConverter.IsLittleEndian ? word : BinaryPrimitives.ReverseEndianness(word);

    private static uint ShiftOverLane(uint state)
    {
        var shifted = 0u;
        for (var bit = 0; state != 0; bit++, state >>= 1)
        {
            if ((state & 1) != 0)
            {
                shifted ^= s_shiftOverLane[bit];
            }
        }

        return shifted;
    }

    private static uint[] BuildShiftOverLane()
    {
        var columns = new uint[32];
        for (var bit = 0; bit < columns.Length; bit++)
        {
            var state = 1u << bit;
            for (var i = 0; i < LaneBytes / sizeof(ulong); i++)
            {
                state = BitOperations.Crc32C(state, 0UL);
            }

            columns[bit] = state;
        }

        return columns;
    }
}
