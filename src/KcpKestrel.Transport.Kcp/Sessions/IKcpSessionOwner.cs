namespace KcpKestrel.Transport.Kcp.Sessions;

/// <summary>Who keeps a session in a table: told on the loop thread when the session ends.</summary>
internal interface IKcpSessionOwner
{
    void OnSessionEnded(KcpSession session);
}
