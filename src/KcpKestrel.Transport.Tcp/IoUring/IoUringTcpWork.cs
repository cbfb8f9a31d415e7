namespace KcpKestrel.Transport.Tcp.IoUring;

/// <summary>What another thread asks a worker to do for one connection.</summary>
internal enum IoUringTcpWork : byte
{
    /// <summary>The app wrote output (or completed it): read it and send.</summary>
    OutputReadable,

    /// <summary>A paused input flush completed: the app caught up, receive again.</summary>
    InputFlushed,

    /// <summary>Kestrel aborted the connection: shut the socket down.</summary>
    Abort,
}
