using System.Net;
using KcpKestrel.Core.Arq;
using KcpKestrel.Relay;
using KcpKestrel.Transport.Kcp.Io.Datagrams;
using KcpKestrel.Transport.Kcp.Sessions;
using KcpKestrel.Transport.Kcp.Tests.InMemory;
using KcpKestrel.Transport.Kcp.Tests.Infrastructure;
using Xunit.Abstractions;

namespace KcpKestrel.Transport.Kcp.Tests;

/// <summary>
/// Migration of a validated session to a new client address (NAT rebinding) in our AEAD modes, on listening
/// sockets driven over an in-memory link on a manual clock (see docs/address-validation.md, "Migration").
/// </summary>
public sealed class MigrationTests(ITestOutputHelper output)
{
    private const int Bytes = 120_000;

    private static readonly IPEndPoint NewAddress = new(IPAddress.Parse("10.0.0.3"), 6001);
    private static readonly IPEndPoint Victim = new(IPAddress.Parse("10.0.0.66"), 7001);

    [Theory]
    [InlineData("aes-256-gcm", 1)]
    [InlineData("aes-256-gcm", 2)]
    [InlineData("chacha20-poly1305", 2)]
    public void RebindingClient_KeepsStreamingByteExact_AndEndsOnTheNewAddress(string crypt, int loops)
    {
        // With two loops, the new address hashes to the other loop's socket: the session's loop gets it handed over.
        var rig = new ListenerRig(crypt, loops, steer: key => key.Port == ListenerRig.ClientAddress.Port ? 0 : loops - 1);
        var received = StartEcho(rig, Bytes / 2);
        rig.AdvanceUntil(() => received.Count >= Bytes / 4, 30_000, "a quarter of the echo");

        // The NAT forgets the old mapping; the client, unaware, goes on writing from its new one.
        rig.Link.Rebind(rig.Client.Channel, NewAddress);
        var rebindAt = rig.Now;
        Write(rig, Bytes / 2, Bytes / 2);
        var beforeProof = 0;
        rig.AdvanceUntil(
            () =>
            {
                if (rig.Counters.SessionsMigrated > 0)
                {
                    return true;
                }

                beforeProof = rig.Link.Sent.Count;
                return false;
            },
            10_000,
            "the migration");

        // Until the path check succeeded, the new address got at most 3x what had arrived from it.
        var provenAt = rig.Now;
        var newKey = UdpAddressKey.From(NewAddress);
        var sentUnproven = rig.Link.Sent.Take(beforeProof).Where(s => s.To == newKey).Sum(s => s.Datagram.Length);
        var receivedUnproven = rig.Link.Sent.Where(s => s.Source == newKey && s.At + rig.Link.DelayMs <= provenAt).Sum(s => s.Datagram.Length);
        output.WriteLine($"{crypt}, {loops} loop(s): {sentUnproven} B sent to the new address before its proof, {receivedUnproven} B received from it; proven {provenAt - rebindAt} ms after the rebinding (simulated, 5 ms one way)");
        Assert.InRange(sentUnproven, 1, 3 * receivedUnproven);

        rig.AdvanceUntil(() => received.Count >= Bytes, 60_000, "the rest of the echo");
        AssertEcho(received);
        Assert.Equal(NewAddress, rig.Server.RemoteEndPoint);
        Assert.Equal(newKey, rig.Link.Sent.Last(s => s.From != rig.Client.Channel).To);
        Assert.Equal((1L, 0L, 1), (rig.Loops[0].Counters.SessionsMigrated, rig.Counters.PathChecksFailed, rig.Host.Accepted.Count));
        Assert.Equal(1, rig.Sockets[0].SessionCount);
    }

    [Fact]
    public void CapturedDatagram_ReplayedFromANewAddress_MovesNothingAndOpensNothing()
    {
        var rig = new ListenerRig("aes-256-gcm");
        var received = StartEcho(rig);
        rig.AdvanceUntil(() => received.Count >= Bytes / 3, 30_000, "a third of the echo");
        var captured = rig.Link.Sent.Last(s => s.From == rig.Client.Channel && s.Datagram.Length > 200).Datagram;
        rig.Advance(50);

        var attacker = InMemoryLink.Sockaddr(Victim);
        var sentBefore = rig.Link.Sent.Count;
        var retriesBefore = rig.Counters.RetriesSent;
        for (var i = 0; i < 10; i++)
        {
            rig.Sockets[0].OnDatagram(rig.Sockets[0].Channel, (byte[])captured.Clone(), attacker, rig.Now);
        }

        var victim = UdpAddressKey.From(Victim);
        Assert.Equal(10, rig.Counters.DroppedReplay);
        Assert.DoesNotContain(rig.Link.Sent.Skip(sentBefore), s => s.To == victim);
        Assert.Equal((0L, retriesBefore, 1), (rig.Counters.SessionsMigrated, rig.Counters.RetriesSent, rig.Host.Accepted.Count));

        rig.AdvanceUntil(() => received.Count >= Bytes, 60_000, "the rest of the echo");
        AssertEcho(received);
        Assert.Equal(ListenerRig.ClientAddress, rig.Server.RemoteEndPoint);
    }

    [Fact]
    public void SpoofedNewAddress_ThatNeverAnswers_NeverTakesTheSession_AndDrawsAtMost3x()
    {
        var rig = new ListenerRig("aes-256-gcm");
        var received = StartEcho(rig);
        rig.AdvanceUntil(() => received.Count >= Bytes / 3, 30_000, "a third of the echo");

        // An on-path attacker delivers a fresh datagram of the client's first, from its victim's address.
        var spoofed = Sealed(rig.Client.Cipher, conv: 7, KcpCommand.WindowAsk);
        rig.Sockets[0].OnDatagram(rig.Sockets[0].Channel, spoofed, InMemoryLink.Sockaddr(Victim), rig.Now);

        // A second victim while that check runs starts none (one check at a time, per session).
        var second = new IPEndPoint(IPAddress.Parse("10.0.0.67"), 7002);
        rig.Sockets[0].OnDatagram(rig.Sockets[0].Channel, Sealed(rig.Client.Cipher, conv: 7, KcpCommand.WindowAsk), InMemoryLink.Sockaddr(second), rig.Now);
        rig.Advance(10_000);

        var victim = UdpAddressKey.From(Victim);
        var toVictim = rig.Link.Sent.Where(s => s.To == victim).ToList();
        Assert.InRange(toVictim.Count, 1, PathCheck.MaxChallenges);
        Assert.True(toVictim.Sum(s => s.Datagram.Length) <= 3 * spoofed.Length, $"{toVictim.Sum(s => s.Datagram.Length)} bytes for {spoofed.Length}");
        Assert.DoesNotContain(rig.Link.Sent, s => s.To == UdpAddressKey.From(second));
        Assert.Equal((0L, 1L, 1), (rig.Counters.SessionsMigrated, rig.Counters.PathChecksFailed, rig.Host.Accepted.Count));

        rig.AdvanceUntil(() => received.Count >= Bytes, 60_000, "the rest of the echo");
        AssertEcho(received);
        Assert.Equal(ListenerRig.ClientAddress, rig.Server.RemoteEndPoint);
    }

    [Theory]
    [InlineData("aes", true)]
    [InlineData("none", true)]
    [InlineData("aes-128-gcm", true)]
    [InlineData("chacha20-poly1305", false)]
    public void OtherModes_NeverMigrate(string crypt, bool addressValidation)
    {
        var rig = new ListenerRig(crypt, configure: o => o.AddressValidation = addressValidation);
        var received = StartEcho(rig);
        rig.AdvanceUntil(() => received.Count >= Bytes / 3, 30_000, "a third of the echo");

        rig.Link.Rebind(rig.Client.Channel, NewAddress, keepOld: true);
        rig.Advance(5_000);

        // kcp-go-compatible: a new address is a new peer, as before (here refused: a mid-stream datagram opens nothing).
        Assert.Equal(0, rig.Counters.SessionsMigrated);
        Assert.Equal(0, rig.Host.Migrations.Count);
        Assert.Equal(ListenerRig.ClientAddress, rig.Server.RemoteEndPoint);
        Assert.DoesNotContain(rig.Link.Sent, s => IsChallenge(rig, s.Datagram));
    }

    [Fact]
    public void MigrationOff_TheSessionStays()
    {
        var rig = new ListenerRig("aes-256-gcm", configure: o => o.Migration = false);
        var received = StartEcho(rig);
        rig.AdvanceUntil(() => received.Count >= Bytes / 3, 30_000, "a third of the echo");

        rig.Link.Rebind(rig.Client.Channel, NewAddress, keepOld: true);
        rig.Advance(5_000);

        Assert.Equal(0, rig.Counters.SessionsMigrated);
        Assert.Equal(ListenerRig.ClientAddress, rig.Server.RemoteEndPoint);
        Assert.Equal(0, rig.Client.ChallengesAnswered);
    }

    [Fact]
    public async Task RealClient_ThroughARebindingNat_EchoesByteExact_AndMigrates()
    {
        // Two loops: the new source port may hash to the other loop's socket, whose datagrams are then handed over.
        await using var listener = await DirectListener.BindAsync(Configure);
        await using var relay = new LossyUdpRelay(new IPEndPoint(IPAddress.Loopback, 0), ((KcpEndPoint)listener.EndPoint).IPEndPoint, new LinkImpairment());
        relay.Start();
        await using var factory = KcpTestHost.Client(Configure).CreateFactory();
        var client = await factory.ConnectAsync(new KcpEndPoint(relay.EndPoint));
        var server = (await listener.AcceptAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(20)))!;
        var firstPort = ((IPEndPoint)server.RemoteEndPoint!).Port;
        var echo = Task.Run(() => server.Transport.Input.CopyToAsync(server.Transport.Output));

        const long Total = 8 << 20;
        var transfer = StreamCheck.EchoAsync(client, Total, seed: 18, TimeSpan.FromSeconds(60));
        while (Volatile.Read(ref relay.Downstream.Received) < 500 && !transfer.IsCompleted)
        {
            await Task.Delay(1);
        }

        // Mid-transfer the NAT gives the client a new source port and forgets the old one.
        Assert.False(transfer.IsCompleted, "the transfer was over before the rebinding");
        var rebindAfter = Volatile.Read(ref relay.Downstream.Received);
        relay.Rebind();
        var (sent, received) = await transfer;

        var c = listener.Counters;
        output.WriteLine($"{Total} B echoed through a rebinding after {rebindAfter} datagrams downstream: migrations {c.SessionsMigrated}, failed path checks {c.PathChecksFailed}, replays dropped {c.DroppedReplay}, amplification-limited {c.AmplificationLimited}, hand-over drops {c.DroppedHandover}; port {firstPort} -> {((IPEndPoint)server.RemoteEndPoint!).Port}");
        Assert.Equal(sent, received);
        Assert.Equal(1, listener.Counters.SessionsMigrated);
        Assert.Equal(0, listener.Counters.PathChecksFailed);
        Assert.Equal(1, listener.Counters.SessionsAccepted);
        Assert.NotEqual(firstPort, ((IPEndPoint)server.RemoteEndPoint!).Port);

        await client.DisposeAsync();
        await echo.WaitAsync(TimeSpan.FromSeconds(20));
        await server.DisposeAsync();

        static void Configure(KcpOptions k)
        {
            k.Crypt = "aes-256-gcm";
            k.Key = ListenerRig.Key;
            k.IoLoopCount = 2;
        }
    }

    /// <summary>The client sends <paramref name="bytes"/> of the stream (byte i is i mod 256); returns what comes back, as it comes.</summary>
    private static List<byte> StartEcho(ListenerRig rig, int bytes = Bytes)
    {
        Write(rig, 0, bytes);
        rig.AdvanceUntil(() => rig.Host.Accepted.Count == 1, 5_000, "the dial");
        var received = new List<byte>(Bytes);
        var input = rig.Client.Connection.Transport.Input;
        rig.Tick = () =>
        {
            while (input.TryRead(out var result) && !result.Buffer.IsEmpty)
            {
                foreach (var segment in result.Buffer)
                {
                    received.AddRange(segment.Span);
                }

                input.AdvanceTo(result.Buffer.End);
            }
        };
        return received;
    }

    /// <summary>The client writes bytes <paramref name="from"/> to <paramref name="from"/> + <paramref name="count"/> of the stream.</summary>
    private static void Write(ListenerRig rig, int from, int count)
    {
        var data = new byte[count];
        for (var i = 0; i < count; i++)
        {
            data[i] = (byte)(from + i);
        }

        SessionCloseStateTests.AssertWritten(rig.Client.Connection.Transport.Output.WriteAsync(data));
    }

    private static void AssertEcho(List<byte> received)
    {
        Assert.Equal(Bytes, received.Count);
        for (var i = 0; i < Bytes; i++)
        {
            Assert.Equal((byte)i, received[i]);
        }
    }

    private static bool IsChallenge(ListenerRig rig, byte[] datagram)
    {
        if (!rig.Client.Cipher.IsAuthenticated)
        {
            return false;
        }

        var copy = (byte[])datagram.Clone();
        return rig.Client.Cipher.Open(copy, out var offset, out var length) == Core.Crypto.CipherResult.Ok
            && PathValidation.TryRead(copy.AsSpan(offset, length), out _, out _, out _);
    }

    private static byte[] Sealed(Core.Crypto.PacketCipher cipher, uint conv, KcpCommand cmd)
    {
        var packet = new byte[cipher.Overhead + SegmentHeader.Size];
        new SegmentHeader(conv, cmd, 0, 128, 0, 0, 0, 0).Write(packet.AsSpan(cipher.HeaderSize));
        var length = cipher.Seal(packet, SegmentHeader.Size);
        return packet[..length];
    }
}
