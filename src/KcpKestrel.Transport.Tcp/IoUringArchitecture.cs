namespace KcpKestrel.Transport.Tcp;

/// <summary>How the <see cref="TcpEngine.IoUring"/> engine spreads connections over its workers.</summary>
public enum IoUringArchitecture
{
    /// <summary>
    /// Each worker (a thread and a ring) has its own SO_REUSEPORT listening socket with a multishot accept; the kernel
    /// spreads new connections over the group by hash, or by CPU with <see cref="TunedTcpOptions.CpuAffinity"/>.
    /// </summary>
    SocketSharding,

    /// <summary>
    /// One acceptor (a thread and a ring) accepts on one listening socket and passes each connection to the worker
    /// with the fewest live connections, ring to ring (IORING_OP_MSG_RING); the workers have no listening socket.
    /// Falls back to <see cref="SocketSharding"/> with one logged line where the kernel lacks MSG_RING (Linux 5.18).
    /// </summary>
    Reactor,
}
