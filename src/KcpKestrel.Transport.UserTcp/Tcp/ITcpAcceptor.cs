namespace KcpKestrel.Transport.UserTcp.Tcp;

/// <summary>A listening port's owner: takes each passively opened connection once it is ESTABLISHED.</summary>
internal interface ITcpAcceptor
{
    /// <summary>
    /// Takes <paramref name="connection"/> (sets its <see cref="TcpConnection.Events"/>); false when the accept queue
    /// is full, and the stack resets it.
    /// </summary>
    bool TryAccept(TcpConnection connection);
}
