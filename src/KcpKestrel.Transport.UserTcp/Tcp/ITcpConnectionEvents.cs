namespace KcpKestrel.Transport.UserTcp.Tcp;

/// <summary>What a connection tells its user (the transport's connection, or a test). Loop thread only.</summary>
internal interface ITcpConnectionEvents
{
    /// <summary>An active open completed (ESTABLISHED).</summary>
    void OnEstablished(TcpConnection connection);

    /// <summary>Bytes became readable, or the peer's FIN arrived after all of them.</summary>
    void OnReceivable(TcpConnection connection);

    /// <summary>Room opened in the send buffer after a <see cref="TcpConnection.Send"/> took less than offered.</summary>
    void OnSendable(TcpConnection connection);

    /// <summary>The connection ended; no event follows. Called once.</summary>
    void OnClosed(TcpConnection connection, TcpCloseReason reason);
}
