using KcpKestrel.Transport.UserTcp.Tcp;

namespace KcpKestrel.Transport.UserTcp.Tests.Stack;

/// <summary>
/// A listener's acceptor that gives each accepted connection a fresh <see cref="StreamEvents"/> configured by
/// <see cref="Configure"/>. Sending starts in <see cref="StartPending"/>, outside the stack's call, as a transport's
/// accept loop would.
/// </summary>
internal sealed class StreamAcceptor : ITcpAcceptor
{
    private readonly Func<uint> _clock;
    private readonly List<StreamEvents> _pending = [];

    public StreamAcceptor(Func<uint> clock) => _clock = clock;

    /// <summary>Sets up each new connection's events (what to send, when to shut down).</summary>
    public Action<StreamEvents>? Configure { get; set; }

    /// <summary>Whether to keep each connection's events in <see cref="Accepted"/> (off for memory measurements).</summary>
    public bool Keep { get; set; } = true;

    /// <summary>How many it takes before refusing.</summary>
    public int Capacity { get; set; } = int.MaxValue;

    public List<StreamEvents> Accepted { get; } = [];

    public int AcceptedCount { get; private set; }

    public int Refused { get; private set; }

    public bool TryAccept(TcpConnection connection)
    {
        if (AcceptedCount >= Capacity)
        {
            Refused++;
            return false;
        }

        var events = new StreamEvents(_clock);
        Configure?.Invoke(events);
        connection.Events = events;
        AcceptedCount++;
        if (Keep)
        {
            Accepted.Add(events);
        }

        events.Connection = connection;
        _pending.Add(events);
        return true;
    }

    /// <summary>Lets connections accepted since the last call start sending.</summary>
    public void StartPending()
    {
        foreach (var events in _pending)
        {
            events.Start(events.Connection!);
        }

        _pending.Clear();
    }
}
