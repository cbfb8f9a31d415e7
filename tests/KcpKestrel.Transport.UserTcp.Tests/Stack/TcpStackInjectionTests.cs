using KcpKestrel.Transport.UserTcp.Tcp;

namespace KcpKestrel.Transport.UserTcp.Tests.Stack;

/// <summary>RFC 5961 blind injection against an ESTABLISHED flow, through the stack's demultiplexing.</summary>
public sealed class TcpStackInjectionTests
{
    [Fact]
    public void BlindRstsAndSyns_WithWrongSequenceNumbers_LeaveTheConnectionWorking()
    {
        using var pair = new StackPair(13);
        pair.Acceptor.Configure = e => e.ToSend = 10_000;
        var client = pair.Connect(toSend: 10_000);
        Assert.True(pair.RunUntil(() => client.Received == 10_000 && pair.Acceptor.Accepted is [{ Received: 10_000 }], 10_000));
        var server = pair.Acceptor.Accepted[0];
        var flow = server.Connection!.Flow;
        var challengesBefore = pair.Server.Counters.ChallengeAcksSent;
        var counters = pair.Server.Counters;
        var refusedBefore = counters.RstIgnored + counters.DroppedOutOfWindow + counters.DroppedPaws + counters.ChallengeAcksSent + counters.ChallengeAcksLimited;

        var random = new Random(14);
        for (var i = 0; i < 500; i++)
        {
            var seq = (uint)random.NextInt64(0, 1L << 32);
            pair.Link.B.Inject(flow, StackSegments.Segment(TcpFlags.Rst, seq), default);
            pair.Link.B.Inject(flow, StackSegments.Segment(TcpFlags.Rst | TcpFlags.Ack, seq, (uint)random.NextInt64(0, 1L << 32)), default);
            pair.Link.B.Inject(flow, StackSegments.Syn(seq), default);
        }

        pair.Link.Advance(100);
        Assert.Equal(TcpState.Established, server.Connection.State);
        Assert.Equal(TcpState.Established, client.Connection!.State);
        Assert.Null(server.ClosedReason);
        Assert.True(pair.Server.Counters.ChallengeAcksSent - challengesBefore <= 1_000, "the challenge-ACK budget did not hold");

        // Every forged segment was turned away under some counted reason (ignored RST, out of window, challenged).
        var refused = counters.RstIgnored + counters.DroppedOutOfWindow + counters.DroppedPaws + counters.ChallengeAcksSent + counters.ChallengeAcksLimited - refusedBefore;
        Assert.True(refused >= 1_000, $"only {refused} of 1,500 forged segments were counted");

        // And the stream still carries data both ways.
        server.ToSend = 20_000;
        client.ToSend = 20_000;
        client.OnSendable(client.Connection);
        server.OnSendable(server.Connection);
        Assert.True(pair.RunUntil(() => client.Received == 20_000 && server.Received == 20_000, 10_000));
        Assert.Equal(0, client.Mismatches + server.Mismatches);
    }

    [Fact]
    public void SegmentsForAFlowThatIsGone_AreAnsweredWithAReset()
    {
        using var pair = new StackPair(15);
        var client = pair.Connect();
        Assert.True(pair.RunUntil(() => pair.Acceptor.AcceptedCount == 1, 5_000));
        var flow = pair.Acceptor.Accepted[0].Connection!.Flow;
        var stale = new TcpFlowKey(flow.LocalAddress, flow.LocalPort, flow.RemoteAddress, (ushort)(flow.RemotePort ^ 1), false);

        pair.Link.B.Inject(stale, StackSegments.Segment(TcpFlags.Ack | TcpFlags.Psh, 1, 2), new byte[10]);
        Assert.Equal(1, pair.Server.Counters.DroppedBadCookie + pair.Server.Counters.DroppedNoConnection);
        Assert.Equal(1, pair.Server.Counters.ResetsSent);
        Assert.Equal(TcpState.Established, client.Connection!.State);
    }
}
