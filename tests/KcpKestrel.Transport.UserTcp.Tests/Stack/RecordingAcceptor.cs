using KcpKestrel.Transport.UserTcp.Tcp;

namespace KcpKestrel.Transport.UserTcp.Tests.Stack;

/// <summary>A listener's acceptor in tests: keeps what it accepts (up to <see cref="Capacity"/>) and gives each the same events.</summary>
internal sealed class RecordingAcceptor : ITcpAcceptor
{
    public RecordingAcceptor(ITcpConnectionEvents? events = null) => Events = events;

    public ITcpConnectionEvents? Events { get; }

    /// <summary>How many it takes before refusing (an accept queue's size).</summary>
    public int Capacity { get; set; } = int.MaxValue;

    public List<TcpConnection> Accepted { get; } = [];

    public int Refused { get; private set; }

    public bool TryAccept(TcpConnection connection)
    {
        if (Accepted.Count >= Capacity)
        {
            Refused++;
            return false;
        }

        connection.Events = Events;
        Accepted.Add(connection);
        return true;
    }
}
