using KcpKestrel.Tests.Shared.UserTcp;
using KcpKestrel.Transport.UserTcp.Tcp;

namespace KcpKestrel.Transport.UserTcp.Tests.Connection;

public class HandshakeTests
{
    [Fact]
    public void ThreeWayHandshakeEstablishesBothEnds()
    {
        var pair = new ConnectionPair(1);
        pair.Connect();
        Assert.Equal(1, pair.ClientEvents.Established);
        Assert.Equal(1, pair.ServerOwner.PassiveEstablishedCount);
        Assert.Equal(1, pair.ClientOwner.Counters.Established);
        Assert.Equal(1, pair.ServerOwner.Counters.Established);
        Assert.Equal(1460, pair.Client.GetStatistics().Mss);
        Assert.True(pair.Client.GetStatistics().SmoothedRttMs > 0);
    }

    [Fact]
    public void HostilePeerMssIsClamped()
    {
        var link = new SegmentLink(2);
        var owner = new FakeConnectionOwner(link.B) { ListenOptions = new TcpConnectionOptions() };
        var syn = new TcpHeader { Seq = 5, Flags = TcpFlags.Syn, Window = 1000 };
        syn.Options.Mss = 1;
        link.B.Inject(ConnectionPair.ClientFlow, syn, default);
        Assert.Equal(TcpConnection.MinPeerMss, owner.Connection!.GetStatistics().Mss);

        var link2 = new SegmentLink(3);
        var owner2 = new FakeConnectionOwner(link2.B) { ListenOptions = new TcpConnectionOptions { Mss = 1400 } };
        syn.Options.Mss = 65535;
        link2.B.Inject(ConnectionPair.ClientFlow, syn, default);
        Assert.Equal(1400, owner2.Connection!.GetStatistics().Mss);
    }

    [Fact]
    public void SimultaneousOpenEstablishesBothEnds()
    {
        var link = new SegmentLink(4);
        var ownerA = new FakeConnectionOwner(link.A);
        var ownerB = new FakeConnectionOwner(link.B);
        var flowB = new TcpFlowKey(ConnectionPair.ClientFlow.RemoteAddress, ConnectionPair.ClientFlow.RemotePort, ConnectionPair.ClientFlow.LocalAddress, ConnectionPair.ClientFlow.LocalPort, false);
        var eventsA = new RecordingConnectionEvents();
        var eventsB = new RecordingConnectionEvents();
        var a = new TcpConnection(ownerA, ConnectionPair.ClientFlow, new TcpConnectionOptions()) { Events = eventsA };
        var b = new TcpConnection(ownerB, flowB, new TcpConnectionOptions()) { Events = eventsB };
        ownerA.Connection = a;
        ownerB.Connection = b;
        a.OpenActive(100, link.Now);
        b.OpenActive(900_000, link.Now);
        Assert.True(link.RunUntil(() => a.State == TcpState.Established && b.State == TcpState.Established, 10_000), $"{a.State} {b.State}");
        Assert.Equal(1, eventsA.Established);
        Assert.Equal(1, eventsB.Established);

        var pairData = new byte[10_000];
        Assert.Equal(pairData.Length, a.Send(pairData, link.Now));
        Assert.True(link.RunUntil(() => b.ReceivableBytes == pairData.Length, 10_000));
    }

    [Fact]
    public void RstToSynMeansRefused()
    {
        var link = new SegmentLink(5);
        var owner = new FakeConnectionOwner(link.A);
        var events = new RecordingConnectionEvents();
        var c = new TcpConnection(owner, ConnectionPair.ClientFlow, new TcpConnectionOptions()) { Events = events };
        owner.Connection = c;
        link.B.Filter = (in TcpFlowKey f, in TcpHeader h, ReadOnlySpan<byte> p) => true;
        uint synSeq = 0;
        link.A.Filter = (in TcpFlowKey f, in TcpHeader h, ReadOnlySpan<byte> p) =>
        {
            synSeq = h.Seq;
            return false;
        };
        c.OpenActive(777, link.Now);
        var rst = new TcpHeader { Seq = 0, Ack = synSeq + 1, Flags = TcpFlags.Rst | TcpFlags.Ack };
        link.A.Inject(ConnectionPair.ClientFlow, rst, default);
        Assert.Equal(TcpState.Closed, c.State);
        Assert.Equal(TcpCloseReason.Refused, events.ClosedReason);
        Assert.Equal(1, owner.ReleasedCount);
    }

    [Fact]
    public void UnansweredSynTimesOut()
    {
        var link = new SegmentLink(6);
        var owner = new FakeConnectionOwner(link.A);
        var events = new RecordingConnectionEvents();
        var c = new TcpConnection(owner, ConnectionPair.ClientFlow, new TcpConnectionOptions { MaxSynRetransmits = 3 }) { Events = events };
        owner.Connection = c;
        c.OpenActive(777, link.Now);
        Assert.True(link.RunUntil(() => c.State == TcpState.Closed, 120_000));
        Assert.Equal(TcpCloseReason.TimedOut, events.ClosedReason);
        Assert.Equal(4, link.A.Sent); // the SYN and three retries, backed off 1 s, 2 s, 4 s
    }
}
