namespace KcpKestrel.Transport.Tcp;

/// <summary>Options of the tuned TCP listener.</summary>
public sealed class TunedTcpOptions
{
    /// <summary>Number of accept loops, each with its own SO_REUSEPORT listening socket. Default: processor count.</summary>
    public int AcceptLoops { get; set; } = Environment.ProcessorCount;

    /// <summary>Listen backlog of each listening socket.</summary>
    public int Backlog { get; set; } = 512;

    /// <summary>TCP_FASTOPEN queue length; 0 turns Fast Open off.</summary>
    public int FastOpenQueueLength { get; set; } = 256;

    /// <summary>TCP_DEFER_ACCEPT: seconds the kernel holds a connection until data arrives; 0 turns it off.</summary>
    public int DeferAcceptSeconds { get; set; }

    /// <summary>Sets TCP_NODELAY on accepted connections.</summary>
    public bool NoDelay { get; set; } = true;

    /// <summary>Maximum open connections; past it new connections are closed at accept and counted. 0: no limit.</summary>
    public int MaxConnections { get; set; }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first option out of range.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(AcceptLoops, 1, nameof(AcceptLoops));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(AcceptLoops, 1024, nameof(AcceptLoops));
        ArgumentOutOfRangeException.ThrowIfLessThan(Backlog, 1, nameof(Backlog));
        ArgumentOutOfRangeException.ThrowIfNegative(FastOpenQueueLength, nameof(FastOpenQueueLength));
        ArgumentOutOfRangeException.ThrowIfNegative(DeferAcceptSeconds, nameof(DeferAcceptSeconds));
        ArgumentOutOfRangeException.ThrowIfNegative(MaxConnections, nameof(MaxConnections));
    }
}
