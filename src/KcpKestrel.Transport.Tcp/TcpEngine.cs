namespace KcpKestrel.Transport.Tcp;

/// <summary>Which I/O engine carries the tuned listener's connections.</summary>
public enum TcpEngine
{
    /// <summary>Kestrel's own socket connections (epoll on Linux) behind the tuned accept loops.</summary>
    Epoll,

    /// <summary>
    /// io_uring (Linux 6.0 or later): one worker thread and ring per SO_REUSEPORT listening socket, or one acceptor
    /// passing connections to the workers (<see cref="TunedTcpOptions.Architecture"/>), multishot accept, multishot
    /// receive into provided buffers, sends straight from the output pipe's segments. Falls back to
    /// <see cref="Epoll"/> with one logged line where io_uring is missing, refused or too old.
    /// </summary>
    IoUring,
}
