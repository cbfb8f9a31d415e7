namespace KcpKestrel.Protocols.Snappy;

/// <summary>Settings of a <see cref="SnappyDuplexPipe"/>.</summary>
public sealed class SnappyPipeOptions
{
    /// <summary>Smallest accepted <see cref="MaxBufferedBytes"/>: one whole chunk of decoded data.</summary>
    public const int MinBufferedBytes = 64 * 1024;

    /// <summary>
    /// Bytes either side may hold before back-pressure: decoded bytes the application has not read,
    /// and written bytes not yet compressed. Default 1 MiB; at least 64 KiB.
    /// </summary>
    public int MaxBufferedBytes { get; set; } = 1024 * 1024;

    /// <summary>Throws when a setting is out of range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxBufferedBytes, MinBufferedBytes, nameof(MaxBufferedBytes));
    }
}
