using System.IO.Pipelines;
using KcpKestrel.Transport.Kcp.Sessions;
using KcpKestrel.Transport.Kcp.Tests.InMemory;

namespace KcpKestrel.Transport.Kcp.Tests;

/// <summary>
/// A listener's session may send a peer that has not proven its address at most AmplificationLimit times
/// what it received, and drops it silently at UnprovenIdleTimeout; a peer proves its address
/// by acknowledging a segment with the exact ts we sent (our client does so during the dial's probe).
/// An unproven peer never gets a close signal.
/// </summary>
public sealed class AddressProofTests
{
    [Theory]
    [InlineData(0, 0)]
    [InlineData(10, 3)]
    public void SpoofedRequest_ServerSendsAtMostThreeTimesWhatItReceived(int dataShards, int parityShards)
    {
        var pair = new SessionPair(o => { o.DataShards = dataShards; o.ParityShards = parityShards; }, serverRequiresAddressProof: true);

        // One spoofed datagram: the "client" sends its request once and is gone, and whatever the server
        // sends to its address never arrives, so nothing is acked.
        pair.Link.Blackhole = pair.Client.Channel;
        SpoofOneDatagram(pair, 80);
        pair.Advance(50);
        Assert.True(pair.Server.Session.RequiresAddressProof);

        // The app answers with far more than the request, as an HTTP server would.
        SessionCloseStateTests.Write(pair.Server.Connection.Transport.Output, 20_000);
        pair.Advance(30_000);

        var received = Bytes(pair, pair.Client.Channel);
        var sent = Bytes(pair, pair.Server.Channel);
        Assert.True(received > 0);
        Assert.True(sent > 0, "the server answered nothing at all (not even an ack)");
        Assert.True(sent <= 3 * received, $"sent {sent} B to an unproven address that sent {received} B ({(double)sent / received:F2}x)");
        Assert.True(pair.Loop.Counters.AmplificationLimited > 0, "the server never hit the budget");
        Assert.Equal(0, pair.Loop.Counters.SessionsValidated);
    }

    [Fact]
    public void UnprovenPeer_IsDroppedAtUnprovenIdleTimeout_WithoutACloseSignal()
    {
        var pair = new SessionPair(o => o.UnprovenIdleTimeout = TimeSpan.FromSeconds(2), serverRequiresAddressProof: true);
        pair.Link.Blackhole = pair.Client.Channel;
        SpoofOneDatagram(pair, 100);
        var opened = pair.Now;
        pair.Advance(20);

        pair.AdvanceUntil(() => pair.Server.Session.IsEnded, 5_000, "the unproven session ended");

        Assert.InRange(pair.Now - opened, 1_900u, 2_100u);
        Assert.Equal(KcpCloseReason.IdleTimeout, pair.Server.Session.CloseReason);
        Assert.Equal(1, pair.Loop.Counters.UnprovenTimeouts);
        Assert.Empty(pair.CloseSignalsFrom(pair.Server));
    }

    [Fact]
    public void UnprovenPeer_Aborted_GetsNoCloseSignal()
    {
        var pair = new SessionPair(serverRequiresAddressProof: true);
        pair.Link.Blackhole = pair.Client.Channel;
        SessionCloseStateTests.Write(pair.Client.Connection.Transport.Output, 100);
        pair.Advance(20);

        pair.Server.Connection.Abort(new Microsoft.AspNetCore.Connections.ConnectionAbortedException("refused"));
        pair.Advance((int)PeerAddressProof.DeferredEndWaitMs / 2);
        Assert.False(pair.Server.Session.IsEnded, "the end waits for a proof that may still come");
        pair.Advance(5_000);

        Assert.True(pair.Server.Session.IsEnded);
        Assert.Equal(KcpCloseReason.Aborted, pair.Server.Session.CloseReason);
        Assert.Empty(pair.CloseSignalsFrom(pair.Server));
        Assert.True(Bytes(pair, pair.Server.Channel) <= 3 * Bytes(pair, pair.Client.Channel));
    }

    [Fact]
    public void UnprovenPeer_AbortedBeforeItsProof_GetsTheCloseSignalOnceProven()
    {
        // Our client's dial: the app refuses the connection before the probe's echo has proven the client's
        // address. The end waits for the proof, so a real client still learns of the refusal at once.
        var pair = new SessionPair(serverRequiresAddressProof: true);
        pair.Server.Connection.Abort(new Microsoft.AspNetCore.Connections.ConnectionAbortedException("refused"));
        pair.Client.Session.SendControl((byte)Core.Arq.KcpCommand.WindowAsk);

        pair.AdvanceUntil(() => pair.Server.Session.IsEnded, (int)PeerAddressProof.DeferredEndWaitMs / 2, "the proven peer's session ended");

        Assert.Equal(KcpCloseReason.Aborted, pair.Server.Session.CloseReason);
        Assert.Equal(1, pair.Loop.Counters.SessionsValidated);
        Assert.NotEmpty(pair.CloseSignalsFrom(pair.Server));
    }

    [Fact]
    public void PeerThatAcksOurData_IsProven_AndGetsEverything()
    {
        var pair = new SessionPair(serverRequiresAddressProof: true);
        SessionCloseStateTests.Write(pair.Client.Connection.Transport.Output, 80);
        pair.Advance(20);
        SessionCloseStateTests.Write(pair.Server.Connection.Transport.Output, 200_000);

        long read = 0;
        pair.AdvanceUntil(() => (read += SessionCloseStateTests.ReadAll(pair.Client.Connection.Transport.Input)) == 200_000, 30_000, "the whole answer arrived");

        Assert.False(pair.Server.Session.RequiresAddressProof);
        Assert.Equal(1, pair.Loop.Counters.SessionsValidated);
    }

    [Fact]
    public void WindowProbe_IsAnsweredWithAStampedTell_WhoseEchoProvesThePeer()
    {
        // Our client's dial: a window probe before any data. The server's WINS carries its (offset) clock,
        // the client's ack echoes it, and that alone proves the client's address.
        var pair = new SessionPair(serverRequiresAddressProof: true);
        pair.Client.Session.SendControl((byte)Core.Arq.KcpCommand.WindowAsk);
        pair.AdvanceUntil(() => !pair.Server.Session.RequiresAddressProof, 200, "the probe's echo proved the client");
        Assert.Equal(1, pair.Loop.Counters.SessionsValidated);
    }

    [Fact]
    public void GuessedTs_DoesNotProveThePeer()
    {
        // A blind source that acks sn 0 with the times it could guess (around the loop's clock) proves
        // nothing: KCP's clock for the session starts at a random offset.
        var pair = new SessionPair(serverRequiresAddressProof: true);
        pair.Link.Blackhole = pair.Client.Channel;
        SessionCloseStateTests.Write(pair.Client.Connection.Transport.Output, 80);
        pair.Advance(10);
        SessionCloseStateTests.Write(pair.Server.Connection.Transport.Output, 500);
        pair.Advance(5);

        var header = new byte[24];
        for (var guess = pair.Now - 200; guess != pair.Now + 200; guess++)
        {
            new Core.Arq.SegmentHeader(7, Core.Arq.KcpCommand.Ack, 0, 128, guess, 0, 1, 0).Write(header);
            pair.Server.Session.OnPacket(header, pair.Now, header.Length);
        }

        Assert.True(pair.Server.Session.RequiresAddressProof);
        Assert.Equal(0, pair.Loop.Counters.SessionsValidated);
    }

    [Fact]
    public void ClientSessions_NeedNoProof()
    {
        var pair = new SessionPair(serverRequiresAddressProof: true);
        Assert.False(pair.Client.Session.RequiresAddressProof);
    }

    /// <summary>The client's first datagram leaves, then its socket is gone: nothing more comes from that address.</summary>
    private static void SpoofOneDatagram(SessionPair pair, int bytes)
    {
        SessionCloseStateTests.Write(pair.Client.Connection.Transport.Output, bytes);
        pair.AdvanceUntil(() => pair.Link.Sent.Exists(s => s.From == pair.Client.Channel), 100, "the request left");
        pair.Client.Channel.Dispose();
    }

    private static long Bytes(SessionPair pair, InMemoryChannel from)
    {
        long total = 0;
        foreach (var (_, sender, datagram, _, _) in pair.Link.Sent)
        {
            if (sender == from)
            {
                total += datagram.Length;
            }
        }

        return total;
    }
}
