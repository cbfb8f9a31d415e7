using KcpKestrel.Transport.UserTcp.Tcp;

namespace KcpKestrel.Transport.UserTcp.Connections;

/// <summary>Who hears of a connection's end (its listener or client: counts and per-stream metrics). Loop thread.</summary>
internal interface IUserTcpConnectionObserver
{
    /// <summary>The connection ended; <paramref name="statistics"/> are its last figures.</summary>
    void OnConnectionClosed(UserTcpConnection connection, TcpCloseReason reason, TcpConnectionStatistics statistics);
}
