using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using KcpKestrel.Core.Crypto;
using KcpKestrel.Transport.Kcp.Connections;
using KcpKestrel.Transport.Kcp.Io.Datagrams;
using KcpKestrel.Transport.Kcp.Sessions;

namespace KcpKestrel.Transport.Kcp.Tests.InMemory;

/// <summary>
/// A listener's per-loop sockets (<see cref="KcpServerSocket"/>, one per <see cref="ManualLoop"/>, sharing one
/// address as SO_REUSEPORT sockets do) and one client session of ours, over an <see cref="InMemoryLink"/> on a
/// manual clock. The client dials as ours does (TOKEN probe, echoed RETRY, answered path checks) and can be
/// rebound to a new address mid-session (<see cref="InMemoryLink.Rebind"/>). The server echoes what it reads.
/// </summary>
internal sealed class ListenerRig
{
    public const string Key = "secret";

    public static readonly IPEndPoint ServerAddress = new(IPAddress.Parse("10.0.0.1"), 4000);
    public static readonly IPEndPoint ClientAddress = new(IPAddress.Parse("10.0.0.2"), 5000);

    /// <param name="crypt">The mode of both ends.</param>
    /// <param name="loops">Listening sockets (loops) sharing the server address.</param>
    /// <param name="steer">Which loop's socket receives a source (the kernel's hash); by default port modulo loops.</param>
    /// <param name="configure">Settings of both ends.</param>
    public ListenerRig(string crypt, int loops = 1, Func<UdpAddressKey, int>? steer = null, Action<KcpOptions>? configure = null, uint start = 50_000)
    {
        Options = new KcpOptions
        {
            Crypt = crypt, Key = Key, DataShards = 0, ParityShards = 0, IoLoopCount = loops, NewSessionsPerSecond = 0,
            IdleTimeout = TimeSpan.FromSeconds(30),
        };
        configure?.Invoke(Options);
        Link = new InMemoryLink(seed: 1) { Now = start };
        steer ??= key => key.Port % loops;
        var channels = Link.OpenGroup(ServerAddress, loops, steer);
        for (var i = 0; i < loops; i++)
        {
            var loop = new ManualLoop(start);
            var socket = new KcpServerSocket(loop, channels[i], Host, Options);
            channels[i].Receiver = socket;
            Loops.Add(loop);
            Sockets.Add(socket);
        }

        ClientLoop = new ManualLoop(start);
        Client = new ClientEndpoint(this);
    }

    private readonly Dictionary<KcpConnection, Task> _flushes = [];

    public KcpOptions Options { get; }

    public InMemoryLink Link { get; }

    public RigHost Host { get; } = new();

    public List<ManualLoop> Loops { get; } = [];

    public List<KcpServerSocket> Sockets { get; } = [];

    public ManualLoop ClientLoop { get; }

    public ClientEndpoint Client { get; }

    public uint Now => ClientLoop.Now;

    /// <summary>Runs at the end of every simulated millisecond (a test's reader).</summary>
    public Action? Tick { get; set; }

    /// <summary>Every server loop's counters, summed.</summary>
    public KcpKestrel.Transport.Kcp.Diagnostics.KcpTransportCounters Counters
    {
        get
        {
            var total = new KcpKestrel.Transport.Kcp.Diagnostics.KcpTransportCounters();
            foreach (var loop in Loops)
            {
                total.Add(loop.Counters);
            }

            return total;
        }
    }

    /// <summary>The server side of the client's session (the first accepted).</summary>
    public KcpConnection Server => Host.Accepted[0];

    /// <summary>Wire bytes the server sent to <paramref name="to"/>, and received from it, so far.</summary>
    public (long Sent, long Received) Traffic(IPEndPoint to)
    {
        var key = UdpAddressKey.From(to);
        var sent = Link.Sent.Where(s => s.To == key && s.From != Client.Channel).Sum(s => (long)s.Datagram.Length);
        var received = Link.Sent.Where(s => s.Source == key && s.From == Client.Channel).Sum(s => (long)s.Datagram.Length);
        return (sent, received);
    }

    public void Advance(int ms)
    {
        for (var i = 0; i < ms; i++)
        {
            Step();
        }
    }

    public void AdvanceUntil(Func<bool> condition, int maxMs, string what) => SessionPair.AdvanceUntil(Step, condition, maxMs, what);

    private void Step()
    {
        var now = ClientLoop.Now + 1;
        Link.Now = now;
        Link.Deliver();
        foreach (var loop in Loops)
        {
            loop.RunTurn(now);
        }

        Echo();
        ClientLoop.RunTurn(now);
        Tick?.Invoke();
    }

    /// <summary>The server app: writes back what it reads, reading on only once the last write has flushed.</summary>
    private void Echo()
    {
        foreach (var connection in Host.Accepted)
        {
            if (_flushes.TryGetValue(connection, out var flush) && !flush.IsCompleted)
            {
                continue;
            }

            var input = connection.Transport.Input;
            if (input.TryRead(out var result) && !result.Buffer.IsEmpty)
            {
                foreach (var segment in result.Buffer)
                {
                    connection.Transport.Output.Write(segment.Span);
                }

                input.AdvanceTo(result.Buffer.End);
                _flushes[connection] = connection.Transport.Output.FlushAsync().AsTask();
            }
        }
    }

    /// <summary>What the listening sockets share, as a listener provides it.</summary>
    internal sealed class RigHost : IKcpListenerHost
    {
        public List<KcpConnection> Accepted { get; } = [];

        public bool IsAccepting => true;

        public bool HasAcceptRoom => true;

        public EndPoint LocalEndPoint => ServerAddress;

        public MemoryPool<byte> MemoryPool => MemoryPool<byte>.Shared;

        public MigrationDirectory Migrations { get; } = new();

        public bool TryReserveSession() => true;

        public void ReleaseSession()
        {
        }

        public bool TryEnqueueAccept(KcpConnection connection)
        {
            Accepted.Add(connection);
            return true;
        }
    }

    /// <summary>Our client's session over a connected endpoint, dialling and answering as <see cref="KcpClientSocket"/> does.</summary>
    internal sealed class ClientEndpoint : IDatagramReceiver, IKcpSessionOwner
    {
        private readonly bool _validate;

        public ClientEndpoint(ListenerRig rig)
        {
            Cipher = KcpCrypt.Create(rig.Options);
            Channel = rig.Link.Open(ClientAddress, this, peer: ServerAddress);
            Session = new KcpSession(rig.ClientLoop, Channel, UdpAddressKey.From(ServerAddress), [], conv: 7, rig.Options, Cipher, this, rig.ClientLoop.Now)
            {
                ReplayWindow = Cipher.SupportsReplayWindow ? new ReplayWindow() : null,
            };
            Connection = new KcpConnection(Session, ClientAddress, ServerAddress, MemoryPool<byte>.Shared, rig.Options);
            Session.Attach(Connection);
            _validate = AddressValidation.AppliesTo(rig.Options, Cipher);
            if (_validate)
            {
                Session.SendTokenProbe(default);
            }
        }

        public PacketCipher Cipher { get; }

        public InMemoryChannel Channel { get; }

        public KcpSession Session { get; }

        public KcpConnection Connection { get; }

        public int ChallengesAnswered { get; private set; }

        public void OnDatagram(IDatagramChannel channel, Span<byte> datagram, ReadOnlySpan<byte> sockaddr, uint now)
        {
            if (Cipher.Open(datagram, Session.ReplayWindow, out var offset, out var length) != CipherResult.Ok)
            {
                return;
            }

            var payload = datagram.Slice(offset, length);
            if (Cipher.SupportsReplayWindow && PathValidation.TryAnswer(Session, payload))
            {
                ChallengesAnswered++;
                return;
            }

            if (_validate && AddressValidation.TryRead(payload, out _, out var cmd, out var token, out _))
            {
                if (cmd == AddressValidation.RetryCommand)
                {
                    Session.SendTokenProbe(token);
                }

                return;
            }

            Session.OnPacket(payload, now, datagram.Length);
        }

        public void OnSessionEnded(KcpSession session)
        {
        }

        public void OnSessionReleased(KcpSession session)
        {
        }
    }
}
