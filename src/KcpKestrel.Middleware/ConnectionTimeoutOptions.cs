namespace KcpKestrel.Middleware;

/// <summary>Options of <c>UseConnectionTimeouts</c>. Both limits are off until set.</summary>
public sealed class ConnectionTimeoutOptions
{
    /// <summary>Close a connection whose peer has sent nothing for this long; <see cref="Timeout.InfiniteTimeSpan"/> (default) = never.</summary>
    public TimeSpan IdleTimeout { get; set; } = Timeout.InfiniteTimeSpan;

    /// <summary>Close a connection that has been open this long; <see cref="Timeout.InfiniteTimeSpan"/> (default) = never.</summary>
    public TimeSpan MaxLifetime { get; set; } = Timeout.InfiniteTimeSpan;

    /// <summary>The clock both limits run on; null = the host's <see cref="System.TimeProvider"/> service, else the system clock.</summary>
    public TimeProvider? TimeProvider { get; set; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first option out of range.</summary>
    public void Validate()
    {
        if (IdleTimeout <= TimeSpan.Zero && IdleTimeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentException($"{nameof(IdleTimeout)} must be positive or infinite.", nameof(IdleTimeout));
        }

        if (MaxLifetime <= TimeSpan.Zero && MaxLifetime != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentException($"{nameof(MaxLifetime)} must be positive or infinite.", nameof(MaxLifetime));
        }
    }
}
