namespace KcpKestrel.Protocols.Qpp;

/// <summary>Settings of a <see cref="QppPad"/>: kcptun's <c>--QPPCount</c>.</summary>
public sealed class QppOptions
{
    /// <summary>kcptun's default <c>--QPPCount</c>.</summary>
    public const int DefaultPadCount = 61;

    /// <summary>The largest pad count: qpp counts pads in 16 bits.</summary>
    public const int MaxPadCount = ushort.MaxValue;

    /// <summary>Fewest pads that hold the entropy of a full 256-byte permutation key (qpp's <c>QPPMinimumPads(8)</c>).</summary>
    public const int SecurePadCount = 7;

    /// <summary>Shortest key that holds that entropy (qpp's <c>QPPMinimumSeedLength(8)</c>), in bytes.</summary>
    public const int SecureKeyLength = QppKeySchedule.FullEntropySeedLength;

    /// <summary>
    /// Pads to derive, 256 bytes each; both ends must agree. Default 61. kcptun refuses 0 or less and
    /// advises an odd count (coprime with 8; a prime, it says) of at least 7.
    /// </summary>
    public int PadCount { get; set; } = DefaultPadCount;

    /// <summary>Throws when a setting is out of range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The pad count is outside 1..65535.</exception>
    public void Validate()
    {
        // kcptun stops on 0 or less; above 65535 it would silently truncate to 16 bits, which we refuse instead.
        ArgumentOutOfRangeException.ThrowIfLessThan(PadCount, 1, nameof(PadCount));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(PadCount, MaxPadCount, nameof(PadCount));
    }

    /// <summary>kcptun's warnings for this count with <paramref name="key"/>: settings that work but weaken QPP.</summary>
    /// <param name="key">The key as the pads will get it (UTF-8 bytes of kcptun's <c>--key</c>).</param>
    /// <returns>One sentence per weakness; empty when none.</returns>
    public IReadOnlyList<string> GetWarnings(ReadOnlySpan<byte> key)
    {
        var warnings = new List<string>();
        if (key.Length < SecureKeyLength)
        {
            warnings.Add($"QPP: the key has {key.Length} bytes; {SecureKeyLength} or more give the pads their full entropy.");
        }

        if (PadCount < SecurePadCount)
        {
            warnings.Add($"QPP: {PadCount} pads; {SecurePadCount} or more are needed for the full entropy.");
        }

        if (PadCount % 2 == 0)
        {
            warnings.Add($"QPP: {PadCount} pads shares a factor with 8 bytes per pad switch; choose an odd (prime) count.");
        }

        return warnings;
    }
}
