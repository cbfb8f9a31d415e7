using System.Buffers;
using System.Net;
using KcpKestrel.Core.Arq;
using KcpKestrel.Core.Fec;
using KcpKestrel.Transport.Kcp.Connections;
using KcpKestrel.Transport.Kcp.Sessions;
using KcpKestrel.Transport.Kcp.Tests.InMemory;

namespace KcpKestrel.Transport.Kcp.Tests;

/// <summary>Which new endpoints a listening socket admits, driven datagram by datagram on a manual clock.</summary>
public sealed class ServerSocketAdmissionTests
{
    private const uint Start = 50_000;

    [Fact]
    public void MaxSessions_FullHost_DropsAndCountsNewEndpoints()
    {
        var (server, loop, host) = Create(o => o.NewSessionsPerSecond = 0, maxSessions: 2);
        for (var i = 0; i < 3; i++)
        {
            Dial(server, i, conv: 1, Start);
        }

        Assert.Equal(2, server.SessionCount);
        Assert.Equal(2, host.Accepted.Count);
        Assert.Equal(1, loop.Counters.DroppedMaxSessions);

        // A session that ends frees its place. Its peer never proved its address, so the abort first waits
        // for that proof (no close signal to an address that may be a victim's).
        host.Accepted[0].Abort();
        loop.RunTurn(Start + 1);
        Assert.Equal(2, server.SessionCount);
        var ended = Start + 1 + PeerAddressProof.DeferredEndWaitMs;
        loop.RunTurn(ended);
        Dial(server, 2, conv: 1, ended);
        Assert.Equal(2, server.SessionCount);
        Assert.Equal(3, host.Accepted.Count);
    }

    [Fact]
    public void NewSessionsPerSecond_Burst_IsCappedAndRefillsWithTime()
    {
        var (server, loop, host) = Create(o => { o.NewSessionsPerSecond = 3; o.IoLoopCount = 1; });
        for (var i = 0; i < 5; i++)
        {
            Dial(server, i, conv: 1, Start);
        }

        Assert.Equal(3, host.Accepted.Count);
        Assert.Equal(2, loop.Counters.DroppedRateLimited);

        // A third of a second earns one more.
        Dial(server, 10, conv: 1, Start + 340);
        Dial(server, 11, conv: 1, Start + 340);
        Assert.Equal(4, host.Accepted.Count);
        Assert.Equal(3, loop.Counters.DroppedRateLimited);
    }

    [Fact]
    public void Tombstone_LateDatagramsOfAClosedSession_AreRejectedUntilItExpires()
    {
        var (server, loop, host) = Create(o => o.TombstoneLifetime = TimeSpan.FromSeconds(2));
        Dial(server, 0, conv: 9, Start);
        Assert.Single(host.Accepted).Abort();
        loop.RunTurn(Start + 1);

        // The unproven peer's session ends once the abort has waited for a proof that never came.
        var ended = Start + 1 + PeerAddressProof.DeferredEndWaitMs;
        loop.RunTurn(ended);
        Assert.Equal(0, server.SessionCount);

        Dial(server, 0, conv: 9, ended + 10);
        Assert.Equal(1, loop.Counters.DroppedTombstone);
        Assert.Single(host.Accepted);

        // Another conv from the same endpoint is a new session.
        Dial(server, 0, conv: 10, ended + 20);
        Assert.Equal(2, host.Accepted.Count);
        host.Accepted[1].Abort();
        loop.RunTurn(ended + 21);
        loop.RunTurn(ended + 21 + PeerAddressProof.DeferredEndWaitMs);

        // Once the tombstone expires, the old conv may open a session again.
        Dial(server, 0, conv: 9, ended + 2_100);
        Assert.Equal(3, host.Accepted.Count);
        Assert.Equal(1, loop.Counters.DroppedTombstone);
    }

    [Fact]
    public void AcceptQueueFull_NewSessionsAreDroppedAndCounted()
    {
        var (server, loop, host) = Create();
        host.AcceptRoom = false;
        Dial(server, 0, conv: 1, Start);
        Assert.Equal(1, loop.Counters.DroppedAcceptQueueFull);
        Assert.Equal(0, server.SessionCount);
        Assert.Equal(0, host.Reserved);

        // Room reported, but the enqueue fails: the new session ends at once, counted the same way.
        host.AcceptRoom = true;
        host.EnqueueFails = true;
        Dial(server, 1, conv: 1, Start);
        Assert.Equal(2, loop.Counters.DroppedAcceptQueueFull);
        Assert.Equal(0, server.SessionCount);
        Assert.Equal(0, host.Reserved);
        Assert.Equal(KcpCloseReason.Shutdown, Assert.Single(host.Offered).Features.Get<IKcpSessionFeature>()!.CloseReason);
    }

    [Fact]
    public void StrayAck_FromAnUnknownEndpoint_OpensNoSession()
    {
        var (server, loop, host) = Create();
        var ack = Segment(conv: 1, KcpCommand.Ack);
        server.OnDatagram(server.Channel, ack, Address(0), Start);
        Assert.Equal(1, loop.Counters.DroppedNoSession);
        Assert.Empty(host.Accepted);
    }

    [Theory]
    [InlineData("len past the end")]
    [InlineData("second segment of another conv")]
    [InlineData("unknown cmd in the second segment")]
    [InlineData("una beyond anything we sent")]
    [InlineData("sn beyond the receive window")]
    [InlineData("fec size past the end")]
    public void MalformedFirstDatagram_OpensNoSession_AndIsCounted(string defect)
    {
        var fec = defect.StartsWith("fec", StringComparison.Ordinal);
        var (server, loop, host) = Create(o =>
        {
            if (fec)
            {
                o.DataShards = 2;
                o.ParityShards = 1;
            }
        });
        var first = new byte[2 * SegmentHeader.Size + 4];
        var secondConv = defect == "second segment of another conv" ? 2u : 1u;
        var secondCmd = defect == "unknown cmd in the second segment" ? (KcpCommand)99 : KcpCommand.Push;
        var una = defect == "una beyond anything we sent" ? 5u : 0u;
        var sn = defect == "sn beyond the receive window" ? 100_000u : 0u;
        var len = defect == "len past the end" ? 100u : 4u;
        new SegmentHeader(1, KcpCommand.Push, 0, 128, Start, sn, una, len).Write(first);
        new SegmentHeader(secondConv, secondCmd, 0, 128, Start, 1, 0, 0).Write(first.AsSpan(SegmentHeader.Size + 4));
        var datagram = first;
        if (fec)
        {
            datagram = new byte[FecPacket.HeaderSizePlusSize + first.Length];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(datagram.AsSpan(4), FecPacket.TypeData);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(datagram.AsSpan(6), (ushort)(first.Length + 3));
            first.CopyTo(datagram, FecPacket.HeaderSizePlusSize);
        }

        server.OnDatagram(server.Channel, datagram, Address(0), Start);

        Assert.Equal(0, server.SessionCount);
        Assert.Empty(host.Accepted);
        Assert.Equal(0, host.Reserved);
        Assert.Equal(1, loop.Counters.DroppedMalformed);
        Assert.Equal(0, loop.Counters.SessionsAccepted);

        if (!fec)
        {
            // The same endpoint's well-formed dial still opens a session.
            Dial(server, 0, conv: 1, Start + 1);
            Assert.Single(host.Accepted);
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void RestartedAeadClient_OnTheSameAddress_ReplacesItsOldSession(bool dialWithPush)
    {
        var dial = dialWithPush ? KcpCommand.Push : KcpCommand.WindowAsk;
        var (server, loop, host) = CreateAeadWithoutTokens();
        using var oldClient = KcpCrypt.Create(new KcpOptions { Crypt = "aes-256-gcm", Key = "secret" });
        server.OnDatagram(server.Channel, Sealed(oldClient, 1, KcpCommand.Push), Address(0), Start);
        Assert.Single(host.Accepted);

        // The client restarts on the same address: a fresh sender prefix, counter and conv.
        using var newClient = KcpCrypt.Create(new KcpOptions { Crypt = "aes-256-gcm", Key = "secret" });
        server.OnDatagram(server.Channel, Sealed(newClient, 2, dial), Address(0), Start + 10);

        Assert.Equal(2, host.Accepted.Count);
        Assert.Equal(1, server.SessionCount);
        Assert.Equal(1, loop.Counters.SessionsReplaced);
        Assert.Equal(0, loop.Counters.DroppedCipher);
        Assert.Equal(KcpCloseReason.Replaced, host.Accepted[0].Features.Get<IKcpSessionFeature>()!.CloseReason);

        // The new session's window is bound to the new sender: its next datagram is taken, ...
        server.OnDatagram(server.Channel, Sealed(newClient, 2, KcpCommand.Push, sn: 1), Address(0), Start + 11);
        Assert.Equal(0, loop.Counters.DroppedCipher);

        // ... while the old client's late datagrams are not, and do not disturb it.
        server.OnDatagram(server.Channel, Sealed(oldClient, 1, KcpCommand.Push, sn: 1), Address(0), Start + 12);
        Assert.Equal(2, host.Accepted.Count);
        Assert.Equal(1, loop.Counters.SessionsReplaced);
    }

    [Fact]
    public void NewAeadSender_WithoutANewConversationStart_IsRefused()
    {
        var (server, loop, host) = CreateAeadWithoutTokens();
        using var oldClient = KcpCrypt.Create(new KcpOptions { Crypt = "aes-256-gcm", Key = "secret" });
        server.OnDatagram(server.Channel, Sealed(oldClient, 1, KcpCommand.Push), Address(0), Start);

        using var other = KcpCrypt.Create(new KcpOptions { Crypt = "aes-256-gcm", Key = "secret" });
        server.OnDatagram(server.Channel, Sealed(other, 2, KcpCommand.Push, sn: 5), Address(0), Start + 1);
        server.OnDatagram(server.Channel, Sealed(other, 1, KcpCommand.Push), Address(0), Start + 2);

        Assert.Single(host.Accepted);
        Assert.Equal(0, loop.Counters.SessionsReplaced);
        Assert.Equal(KcpCloseReason.None, host.Accepted[0].Features.Get<IKcpSessionFeature>()!.CloseReason);
    }

    private static byte[] Sealed(Core.Crypto.PacketCipher cipher, uint conv, KcpCommand cmd, uint sn = 0)
    {
        var packet = new byte[cipher.Overhead + SegmentHeader.Size];
        new SegmentHeader(conv, cmd, 0, 128, Start, sn, 0, 0).Write(packet.AsSpan(cipher.HeaderSize));
        var length = cipher.Seal(packet, SegmentHeader.Size);
        return packet[..length];
    }

    // Raw aes-256-gcm datagrams with no address token: these cover the admission rules with validation off.
    private static (KcpServerSocket Server, ManualLoop Loop, FakeListenerHost Host) CreateAeadWithoutTokens() => Create(o =>
    {
        o.Crypt = "aes-256-gcm";
        o.Key = "secret";
        o.AddressValidation = false;
    });

    private static (KcpServerSocket Server, ManualLoop Loop, FakeListenerHost Host) Create(Action<KcpOptions>? configure = null, int maxSessions = 100)
    {
        var options = new KcpOptions { Crypt = "null", DataShards = 0, ParityShards = 0, IoLoopCount = 1 };
        configure?.Invoke(options);
        var loop = new ManualLoop(Start);
        var link = new InMemoryLink(seed: 1) { Now = Start };
        var host = new FakeListenerHost(maxSessions);
        var channel = link.Open(new IPEndPoint(IPAddress.Loopback, 4000), receiver: null!);
        var server = new KcpServerSocket(loop, channel, host, options);
        channel.Receiver = server;
        return (server, loop, host);
    }

    private static byte[] Address(int client) => InMemoryLink.Sockaddr(new IPEndPoint(IPAddress.Parse("10.1.0.1"), 10_000 + client));

    private static byte[] Segment(uint conv, KcpCommand cmd)
    {
        var segment = new byte[SegmentHeader.Size];
        new SegmentHeader(conv, cmd, 0, 128, Start, 0, 0, 0).Write(segment);
        return segment;
    }

    /// <summary>A client's first datagram: PUSH, sn 0.</summary>
    private static void Dial(KcpServerSocket server, int client, uint conv, uint now) =>
        server.OnDatagram(server.Channel, Segment(conv, KcpCommand.Push), Address(client), now);

    private sealed class FakeListenerHost(int maxSessions) : IKcpListenerHost
    {
        public bool AcceptRoom { get; set; } = true;

        public bool EnqueueFails { get; set; }

        public int Reserved { get; private set; }

        public List<KcpConnection> Accepted { get; } = [];

        public List<KcpConnection> Offered { get; } = [];

        public bool IsAccepting => true;

        public bool HasAcceptRoom => AcceptRoom;

        public EndPoint LocalEndPoint { get; } = new IPEndPoint(IPAddress.Loopback, 4000);

        public MemoryPool<byte> MemoryPool => MemoryPool<byte>.Shared;

        public MigrationDirectory Migrations { get; } = new();

        public bool TryReserveSession()
        {
            if (Reserved >= maxSessions)
            {
                return false;
            }

            Reserved++;
            return true;
        }

        public void ReleaseSession() => Reserved--;

        public bool TryEnqueueAccept(KcpConnection connection)
        {
            Offered.Add(connection);
            if (EnqueueFails)
            {
                return false;
            }

            Accepted.Add(connection);
            return true;
        }
    }
}
