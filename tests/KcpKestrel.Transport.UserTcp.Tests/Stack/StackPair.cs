using System.Net;
using KcpKestrel.Tests.Shared.UserTcp;
using KcpKestrel.Transport.UserTcp.Tcp;

namespace KcpKestrel.Transport.UserTcp.Tests.Stack;

/// <summary>
/// Two stacks joined by a seeded <see cref="SegmentLink"/> on its manual clock: a client stack on end A
/// (<see cref="ClientAddress"/>) and a server stack on end B (<see cref="ServerAddress"/>) listening on
/// <see cref="ServerPort"/> with an acceptor that gives every connection a fresh <see cref="StreamEvents"/>.
/// </summary>
internal sealed class StackPair : IDisposable
{
    public static readonly IPAddress ClientAddress = IPAddress.Parse("10.77.0.2");

    public static readonly IPAddress ServerAddress = IPAddress.Parse("10.77.0.1");

    public const int ServerPort = 8080;

    public StackPair(int seed, TcpStackOptions? clientOptions = null, TcpStackOptions? serverOptions = null)
    {
        Link = new SegmentLink(seed);
        Client = new TcpStack(clientOptions ?? new TcpStackOptions(), Link.A, Link.A.Timers, new byte[16]);
        Server = new TcpStack(serverOptions ?? new TcpStackOptions(), Link.B, Link.B.Timers, Enumerable.Repeat((byte)1, 16).ToArray());
        Link.A.Input = Client;
        Link.B.Input = Server;
        Acceptor = new StreamAcceptor(() => Link.Now);
        Server.Listen(new IPEndPoint(IPAddress.Any, ServerPort), Acceptor);
    }

    public SegmentLink Link { get; }

    public TcpStack Client { get; }

    public TcpStack Server { get; }

    public StreamAcceptor Acceptor { get; }

    public static IPEndPoint ServerEndPoint => new(ServerAddress, ServerPort);

    /// <summary>An active open from the client stack (ephemeral port) with events that send <paramref name="toSend"/> bytes.</summary>
    public StreamEvents Connect(long toSend = 0, bool shutdownWhenSent = false)
    {
        var events = new StreamEvents(() => Link.Now) { ToSend = toSend, ShutdownWhenSent = shutdownWhenSent };
        events.Connection = Client.Connect(new IPEndPoint(ClientAddress, 0), ServerEndPoint, events, Link.Now);
        return events;
    }

    /// <summary>Runs the link until <paramref name="done"/> holds (starting accepted connections on the way); false past <paramref name="maxMs"/>.</summary>
    public bool RunUntil(Func<bool> done, int maxMs) =>
        Link.RunUntil(
            () =>
            {
                Acceptor.StartPending();
                return done();
            },
            maxMs);

    public void Dispose()
    {
        Client.Dispose();
        Server.Dispose();
    }
}
