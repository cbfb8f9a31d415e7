using KcpKestrel.Transport.UserTcp.Tcp;

namespace KcpKestrel.Transport.UserTcp.Tests.Connection;

public class TimerTests
{
    [Fact]
    public void KeepAliveProbesAnIdlePeerAndKeepsALiveOne()
    {
        var options = new TcpConnectionOptions { KeepAliveIdleMs = 10_000, KeepAliveIntervalMs = 1_000, KeepAliveProbes = 3 };
        var pair = new ConnectionPair(81, options, null);
        pair.Connect();

        // A live peer answers every probe: still established after a minute of idle.
        pair.Link.Advance(60_000);
        Assert.Equal(TcpState.Established, pair.Client.State);
        var probes = pair.ClientOwner.Counters.KeepAlivesSent;
        Assert.True(probes is >= 5 and <= 7, $"{probes} probes");

        // The peer goes silent: three unanswered probes, then the connection is dropped.
        pair.Link.B.LossRate = 1;
        var start = pair.Now;
        Assert.True(pair.Link.RunUntil(() => pair.Client.State == TcpState.Closed, 60_000));
        Assert.Equal(TcpCloseReason.KeepAliveTimedOut, pair.ClientEvents.ClosedReason);
        Assert.Equal(1, pair.ClientOwner.Counters.KeepAliveTimedOut);

        // At most idle + probes x interval after the peer fell silent; at least the probes' intervals.
        Assert.InRange((int)(pair.Now - start), 3_000, 13_100);
        Assert.Equal(1, pair.ClientOwner.ReleasedCount);
    }

    [Fact]
    public void VanishedPeerTimesOutAfterMaxRetransmits()
    {
        var options = new TcpConnectionOptions { MaxRetransmits = 4, MaxRtoMs = 5_000 };
        var pair = new ConnectionPair(82, options, null);
        pair.Connect();
        pair.Link.B.LossRate = 1;
        pair.Client.Send(new byte[5000], pair.Now);
        Assert.True(pair.Link.RunUntil(() => pair.Client.State == TcpState.Closed, 120_000));
        Assert.Equal(TcpCloseReason.TimedOut, pair.ClientEvents.ClosedReason);
        Assert.Equal(5, pair.ClientOwner.Counters.RtoExpirations);
        Assert.False(pair.Client.IsScheduled);
    }

    [Fact]
    public void DelayedAckAcksEverySecondFullSegmentOrOnTimeout()
    {
        var pair = new ConnectionPair(83);
        pair.Connect();
        var acksBefore = pair.Link.B.Sent;

        // One small segment: acked only when the delayed-ACK timer (40 ms) fires.
        pair.Client.Send(new byte[100], pair.Now);
        pair.Link.Advance(20);
        Assert.Equal(acksBefore, pair.Link.B.Sent);
        pair.Link.Advance(40);
        Assert.Equal(acksBefore + 1, pair.Link.B.Sent);
        Assert.Equal(1, pair.ServerOwner.Counters.DelayedAcks);

        // Ten full segments: about one ACK per two.
        var before = pair.Link.B.Sent;
        pair.Client.Send(new byte[10 * 1448], pair.Now);
        pair.Link.Advance(5);
        Assert.InRange(pair.Link.B.Sent - before, 5, 6);
    }
}
