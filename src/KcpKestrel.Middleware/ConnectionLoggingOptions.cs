namespace KcpKestrel.Middleware;

/// <summary>Options of <c>UseConnectionLifetimeLogging</c>.</summary>
public sealed class ConnectionLoggingOptions
{
    /// <summary>The most bytes each way logged as hex at Trace level at the start of a connection; 0 (default) = none.</summary>
    public int HexDumpBytes { get; set; }

    /// <summary>The logger category (default "KcpKestrel.Middleware.ConnectionLogging").</summary>
    public string Category { get; set; } = "KcpKestrel.Middleware.ConnectionLogging";

    /// <summary>The clock durations are measured on; null = the host's <see cref="System.TimeProvider"/> service, else the system clock.</summary>
    public TimeProvider? TimeProvider { get; set; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first option out of range.</summary>
    public void Validate()
    {
        if (HexDumpBytes is < 0 or > 1024 * 1024)
        {
            throw new ArgumentException($"{nameof(HexDumpBytes)} must be 0 to 1 MiB.", nameof(HexDumpBytes));
        }

        if (string.IsNullOrWhiteSpace(Category))
        {
            throw new ArgumentException($"{nameof(Category)} must not be empty.", nameof(Category));
        }
    }
}
