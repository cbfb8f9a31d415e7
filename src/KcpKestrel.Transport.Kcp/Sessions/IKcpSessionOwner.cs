namespace KcpKestrel.Transport.Kcp.Sessions;

/// <summary>Who keeps a session in a table: told on the loop thread when the session ends.</summary>
internal interface IKcpSessionOwner
{
    void OnSessionEnded(KcpSession session);

    /// <summary>The session has also finished sending (its close signal repeats): its socket may go.</summary>
    void OnSessionReleased(KcpSession session);
}
