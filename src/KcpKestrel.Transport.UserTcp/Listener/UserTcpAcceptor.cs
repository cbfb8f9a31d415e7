using KcpKestrel.Transport.UserTcp.Connections;
using KcpKestrel.Transport.UserTcp.Io;
using KcpKestrel.Transport.UserTcp.Tcp;

namespace KcpKestrel.Transport.UserTcp.Listener;

/// <summary>One loop's side of a listener: wraps each established connection for Kestrel and queues it. Loop thread.</summary>
internal sealed class UserTcpAcceptor(UserTcpConnectionListener listener, UserTcpLoopStack stack) : ITcpAcceptor
{
    public bool TryAccept(TcpConnection connection)
    {
        var accepted = listener.TryQueue(stack.Loop, connection);
        if (accepted is null)
        {
            return false;
        }

        // Data that came with the handshake's last ACK goes to the pipe at once.
        accepted.Start(stack.Loop.TurnNow);
        return true;
    }
}
