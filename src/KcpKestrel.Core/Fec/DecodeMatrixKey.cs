namespace KcpKestrel.Core.Fec;

/// <summary>The set of (up to 256) shard indices a decode matrix was inverted from, as a 256-bit mask.</summary>
internal readonly record struct DecodeMatrixKey(ulong Word0, ulong Word1, ulong Word2, ulong Word3)
{
    public static DecodeMatrixKey From(ReadOnlySpan<int> indices)
    {
        Span<ulong> words = stackalloc ulong[4];
        foreach (var index in indices)
        {
            words[index >> 6] |= 1UL << (index & 63);
        }

        return new DecodeMatrixKey(words[0], words[1], words[2], words[3]);
    }
}
