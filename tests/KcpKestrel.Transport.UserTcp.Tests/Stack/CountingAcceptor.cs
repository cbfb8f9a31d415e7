using KcpKestrel.Transport.UserTcp.Tcp;

namespace KcpKestrel.Transport.UserTcp.Tests.Stack;

/// <summary>An acceptor that only counts, giving every connection the same events: it adds nothing per connection to a memory measurement.</summary>
internal sealed class CountingAcceptor(ITcpConnectionEvents events) : ITcpAcceptor
{
    public int Accepted { get; private set; }

    public bool TryAccept(TcpConnection connection)
    {
        connection.Events = events;
        Accepted++;
        return true;
    }
}
