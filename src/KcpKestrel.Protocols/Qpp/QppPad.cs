using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace KcpKestrel.Protocols.Qpp;

/// <summary>
/// kcptun's Quantum Permutation Pad (xtaci/qpp, 8 qubits): a set of byte permutations derived from
/// a key, shared by every stream, and the random stream each stream direction starts from.
/// Deriving it is deliberately slow (PBKDF2 and AES for every pad), so build one per key and pad
/// count and pass it to each <see cref="QppDuplexPipe"/>; it is immutable and thread-safe.
/// </summary>
/// <remarks>
/// kcptun derives both the pads and each stream's random stream from the raw bytes of its
/// <c>--key</c> (not from the PBKDF2 key it gives the packet cipher), with <c>--QPPCount</c> pads.
/// </remarks>
public sealed class QppPad
{
    private readonly byte[] _pads;
    private readonly byte[] _inverse;
    private readonly uint _count;
    private readonly QppRandom _start;

    /// <summary>Derives the pads and the starting random stream from <paramref name="key"/>.</summary>
    /// <param name="key">The shared secret: kcptun's <c>--key</c> as UTF-8 bytes. May be empty, as in kcptun.</param>
    /// <param name="options">The pad count; defaults (kcptun's 61) when null.</param>
    /// <exception cref="ArgumentOutOfRangeException">The pad count is outside 1..65535.</exception>
    public QppPad(ReadOnlySpan<byte> key, QppOptions? options = null)
    {
        options ??= new QppOptions();
        options.Validate();
        PadCount = options.PadCount;
        _count = (uint)PadCount;
        _pads = new byte[PadCount * QppKeySchedule.PadSize];
        _inverse = new byte[PadCount * QppKeySchedule.PadSize];
        QppKeySchedule.DerivePads(key, _pads, _inverse);
        _start = QppRandom.FromSeed(key);
    }

    /// <summary>The number of pads (kcptun's <c>--QPPCount</c>).</summary>
    public int PadCount { get; }

    /// <summary>The pads, 256 bytes each, for tests against qpp's.</summary>
    internal ReadOnlySpan<byte> Pads => _pads;

    /// <summary>Where each direction of each new stream starts (kcptun creates both from the key).</summary>
    internal QppRandom Start => _start;

    /// <summary>
    /// Encrypts the next <paramref name="source"/>.Length bytes of a stream into
    /// <paramref name="destination"/> (which may be the same memory), advancing <paramref name="random"/>.
    /// </summary>
    internal void Encrypt(ReadOnlySpan<byte> source, Span<byte> destination, ref QppRandom random)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, source.Length, nameof(destination));
        ref var pads = ref MemoryMarshal.GetArrayDataReference(_pads);
        ref var src = ref MemoryMarshal.GetReference(source);
        ref var dst = ref MemoryMarshal.GetReference(destination);
        var (s0, s1, s2, s3, word, used) = (random.S0, random.S1, random.S2, random.S3, random.Word, random.Used);
        ref var pad = ref Unsafe.Add(ref pads, Select(word));
        nuint i = 0;
        var length = (nuint)source.Length;

        // Finish the word a previous call left part-used.
        for (; used != 0 && i < length; i++)
        {
            Unsafe.Add(ref dst, i) = Unsafe.Add(ref pad, Unsafe.Add(ref src, i) ^ (byte)(word >> (used * 8)));
            if (++used == 8)
            {
                used = 0;
                word = QppRandom.Next(ref s0, ref s1, ref s2, ref s3);
                pad = ref Unsafe.Add(ref pads, Select(word));
            }
        }

        // Whole words: XOR eight bytes at once (little-endian, so byte k meets word >> 8k), then permute each.
        for (; length - i >= 8; i += 8)
        {
            var x = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref src, i));
            if (!BitConverter.IsLittleEndian)
            {
                x = System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(x);
            }

            x ^= word;
            ref var d = ref Unsafe.Add(ref dst, i);
            d = Unsafe.Add(ref pad, (byte)x);
            Unsafe.Add(ref d, 1) = Unsafe.Add(ref pad, (byte)(x >> 8));
            Unsafe.Add(ref d, 2) = Unsafe.Add(ref pad, (byte)(x >> 16));
            Unsafe.Add(ref d, 3) = Unsafe.Add(ref pad, (byte)(x >> 24));
            Unsafe.Add(ref d, 4) = Unsafe.Add(ref pad, (byte)(x >> 32));
            Unsafe.Add(ref d, 5) = Unsafe.Add(ref pad, (byte)(x >> 40));
            Unsafe.Add(ref d, 6) = Unsafe.Add(ref pad, (byte)(x >> 48));
            Unsafe.Add(ref d, 7) = Unsafe.Add(ref pad, (byte)(x >> 56));
            word = QppRandom.Next(ref s0, ref s1, ref s2, ref s3);
            pad = ref Unsafe.Add(ref pads, Select(word));
        }

        // The tail starts a word and leaves it part-used for the next call.
        for (; i < length; i++, used++)
        {
            Unsafe.Add(ref dst, i) = Unsafe.Add(ref pad, Unsafe.Add(ref src, i) ^ (byte)(word >> (used * 8)));
        }

        (random.S0, random.S1, random.S2, random.S3, random.Word, random.Used) = (s0, s1, s2, s3, word, used);
    }

    /// <summary>The inverse of <see cref="Encrypt"/> for the same position in the stream.</summary>
    internal void Decrypt(ReadOnlySpan<byte> source, Span<byte> destination, ref QppRandom random)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, source.Length, nameof(destination));
        ref var pads = ref MemoryMarshal.GetArrayDataReference(_inverse);
        ref var src = ref MemoryMarshal.GetReference(source);
        ref var dst = ref MemoryMarshal.GetReference(destination);
        var (s0, s1, s2, s3, word, used) = (random.S0, random.S1, random.S2, random.S3, random.Word, random.Used);
        ref var pad = ref Unsafe.Add(ref pads, Select(word));
        nuint i = 0;
        var length = (nuint)source.Length;

        for (; used != 0 && i < length; i++)
        {
            Unsafe.Add(ref dst, i) = (byte)(Unsafe.Add(ref pad, Unsafe.Add(ref src, i)) ^ (byte)(word >> (used * 8)));
            if (++used == 8)
            {
                used = 0;
                word = QppRandom.Next(ref s0, ref s1, ref s2, ref s3);
                pad = ref Unsafe.Add(ref pads, Select(word));
            }
        }

        for (; length - i >= 8; i += 8)
        {
            ref var s = ref Unsafe.Add(ref src, i);
            ulong x = Unsafe.Add(ref pad, s);
            x |= (ulong)Unsafe.Add(ref pad, Unsafe.Add(ref s, 1)) << 8;
            x |= (ulong)Unsafe.Add(ref pad, Unsafe.Add(ref s, 2)) << 16;
            x |= (ulong)Unsafe.Add(ref pad, Unsafe.Add(ref s, 3)) << 24;
            x |= (ulong)Unsafe.Add(ref pad, Unsafe.Add(ref s, 4)) << 32;
            x |= (ulong)Unsafe.Add(ref pad, Unsafe.Add(ref s, 5)) << 40;
            x |= (ulong)Unsafe.Add(ref pad, Unsafe.Add(ref s, 6)) << 48;
            x |= (ulong)Unsafe.Add(ref pad, Unsafe.Add(ref s, 7)) << 56;
            x ^= word;
            if (!BitConverter.IsLittleEndian)
            {
                x = System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(x);
            }

            Unsafe.WriteUnaligned(ref Unsafe.Add(ref dst, i), x);
            word = QppRandom.Next(ref s0, ref s1, ref s2, ref s3);
            pad = ref Unsafe.Add(ref pads, Select(word));
        }

        for (; i < length; i++, used++)
        {
            Unsafe.Add(ref dst, i) = (byte)(Unsafe.Add(ref pad, Unsafe.Add(ref src, i)) ^ (byte)(word >> (used * 8)));
        }

        (random.S0, random.S1, random.S2, random.S3, random.Word, random.Used) = (s0, s1, s2, s3, word, used);
    }

    /// <summary>The offset of the pad a word picks: its low 16 bits modulo the pad count, as qpp does.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private nuint Select(ulong word) => (nuint)((ushort)word % _count) << 8;
}
