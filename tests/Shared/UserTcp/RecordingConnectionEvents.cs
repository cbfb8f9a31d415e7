using KcpKestrel.Transport.UserTcp.Tcp;

namespace KcpKestrel.Tests.Shared.UserTcp;

/// <summary>A connection's user in tests: counts every event and remembers how the connection closed.</summary>
internal sealed class RecordingConnectionEvents : ITcpConnectionEvents
{
    public int Established { get; private set; }

    public int Receivable { get; private set; }

    public int Sendable { get; private set; }

    public int ClosedCount { get; private set; }

    public TcpCloseReason? ClosedReason { get; private set; }

    public void OnEstablished(TcpConnection connection) => Established++;

    public void OnReceivable(TcpConnection connection) => Receivable++;

    public void OnSendable(TcpConnection connection) => Sendable++;

    public void OnClosed(TcpConnection connection, TcpCloseReason reason)
    {
        ClosedCount++;
        ClosedReason = reason;
    }
}
