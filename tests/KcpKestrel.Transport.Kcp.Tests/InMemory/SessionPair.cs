using System.Buffers;
using System.Net;
using KcpKestrel.Core.Crypto;
using KcpKestrel.Transport.Kcp.Connections;
using KcpKestrel.Transport.Kcp.Io.Datagrams;
using KcpKestrel.Transport.Kcp.Sessions;

namespace KcpKestrel.Transport.Kcp.Tests.InMemory;

/// <summary>
/// Two sessions talking over an <see cref="InMemoryLink"/> on one <see cref="ManualLoop"/>: no
/// sockets, no threads, no sleeping. <see cref="Advance"/> moves the clock a millisecond at a time.
/// </summary>
internal sealed class SessionPair
{
    public static readonly IPEndPoint ServerAddress = new(IPAddress.Parse("10.0.0.1"), 4000);
    public static readonly IPEndPoint ClientAddress = new(IPAddress.Parse("10.0.0.2"), 5000);

    /// <param name="configure">Settings of both sessions.</param>
    /// <param name="seed">The link's random seed.</param>
    /// <param name="start">The clock's first reading (ms).</param>
    /// <param name="serverRequiresAddressProof">The server session is a listener's: its peer must prove its address.</param>
    public SessionPair(Action<KcpOptions>? configure = null, int seed = 1, uint start = 1000, bool serverRequiresAddressProof = false)
    {
        Options = new KcpOptions { Crypt = "null", DataShards = 0, ParityShards = 0, IdleTimeout = TimeSpan.FromSeconds(30) };
        configure?.Invoke(Options);
        Loop = new ManualLoop(start);
        Link = new InMemoryLink(seed) { Now = start };
        Server = new Endpoint(this, ServerAddress, ClientAddress, conv: 7, connected: false, serverRequiresAddressProof);
        Client = new Endpoint(this, ClientAddress, ServerAddress, conv: 7, connected: true, requiresAddressProof: false);
    }

    public KcpOptions Options { get; }

    public ManualLoop Loop { get; }

    public InMemoryLink Link { get; }

    public Endpoint Server { get; }

    public Endpoint Client { get; }

    public uint Now => Loop.Now;

    /// <summary>Moves the clock <paramref name="ms"/> milliseconds, a turn per millisecond.</summary>
    public void Advance(int ms)
    {
        for (var i = 0; i < ms; i++)
        {
            Step();
        }
    }

    /// <summary>Advances until <paramref name="condition"/> holds; fails after <paramref name="maxMs"/> of simulated time.</summary>
    public void AdvanceUntil(Func<bool> condition, int maxMs, string what) => AdvanceUntil(Step, condition, maxMs, what);

    /// <summary>Runs <paramref name="step"/> (a simulated millisecond) until <paramref name="condition"/> holds; fails after <paramref name="maxMs"/> steps.</summary>
    internal static void AdvanceUntil(Action step, Func<bool> condition, int maxMs, string what)
    {
        for (var i = 0; i < maxMs && !condition(); i++)
        {
            step();
        }

        Assert.True(condition(), $"{what}: not within {maxMs} ms of simulated time");
    }

    private void Step()
    {
        var now = Loop.Now + 1;
        Link.Now = now;
        Link.Deliver();
        Loop.RunTurn(now);
    }

    /// <summary>Whether a datagram is our close signal (with the null cipher and no FEC, it is the bare segment).</summary>
    public static bool IsCloseSignal(byte[] datagram) => datagram.Length == 24 && datagram[4] == KcpSession.CloseCommand;

    /// <summary>The times the close signal left <paramref name="from"/>.</summary>
    public List<uint> CloseSignalsFrom(Endpoint from) =>
        [.. Link.Sent.Where(s => s.From == from.Channel && IsCloseSignal(s.Datagram)).Select(s => s.At)];

    internal sealed class Endpoint : IDatagramReceiver, IKcpSessionOwner
    {
        private readonly PacketCipher _cipher;

        public Endpoint(SessionPair pair, IPEndPoint address, IPEndPoint peer, uint conv, bool connected, bool requiresAddressProof)
        {
            _cipher = KcpCrypt.Create(pair.Options);
            Channel = pair.Link.Open(address, this, connected ? peer : null);
            var sockaddr = connected ? [] : InMemoryLink.Sockaddr(peer);
            Session = new KcpSession(pair.Loop, Channel, UdpAddressKey.From(peer), sockaddr, conv, pair.Options, _cipher, this, pair.Loop.Now)
            {
                RequiresAddressProof = requiresAddressProof,
            };
            Connection = new KcpConnection(Session, address, peer, MemoryPool<byte>.Shared, pair.Options);
            Session.Attach(Connection);
        }

        public InMemoryChannel Channel { get; }

        /// <summary>The cipher this endpoint opens what it receives with, made as the transport makes it.</summary>
        public PacketCipher Cipher => _cipher;

        public KcpSession Session { get; }

        public KcpConnection Connection { get; }

        public int Ended { get; private set; }

        public int Released { get; private set; }

        public void OnDatagram(IDatagramChannel channel, Span<byte> datagram, ReadOnlySpan<byte> sockaddr, uint now)
        {
            if (_cipher.Open(datagram, null, out var offset, out var length) == CipherResult.Ok)
            {
                Session.OnPacket(datagram.Slice(offset, length), now, datagram.Length);
            }
        }

        public void OnSessionEnded(KcpSession session) => Ended++;

        public void OnSessionReleased(KcpSession session) => Released++;
    }
}
