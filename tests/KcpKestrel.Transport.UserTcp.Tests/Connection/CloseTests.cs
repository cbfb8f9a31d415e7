using KcpKestrel.Transport.UserTcp.Tcp;

namespace KcpKestrel.Transport.UserTcp.Tests.Connection;

public class CloseTests
{
    private static readonly TcpConnectionOptions ShortTimeWait = new() { TimeWaitMs = 2_000 };

    [Fact]
    public void ActiveCloseGoesThroughTimeWaitAndIsReleasedAfterTwoMsl()
    {
        var pair = new ConnectionPair(61, ShortTimeWait, ShortTimeWait);
        pair.Connect();
        var server = pair.Server;
        pair.Client.Shutdown(pair.Now);
        Assert.Equal(TcpState.FinWait1, pair.Client.State);
        Assert.True(pair.Link.RunUntil(() => server.State == TcpState.CloseWait && pair.Client.State == TcpState.FinWait2, 5_000));
        Assert.True(server.IsReceiveComplete);

        server.Shutdown(pair.Now);
        Assert.Equal(TcpState.LastAck, server.State);
        Assert.True(pair.Link.RunUntil(() => pair.Client.State == TcpState.TimeWait && server.State == TcpState.Closed, 5_000));
        Assert.Equal(TcpCloseReason.Closed, pair.ServerEvents.ClosedReason);
        Assert.Equal(TcpCloseReason.Closed, pair.ClientEvents.ClosedReason);
        Assert.Equal(1, pair.ServerOwner.ReleasedCount);
        Assert.Equal(0, pair.ClientOwner.ReleasedCount);

        var entered = pair.Now;
        Assert.True(pair.Link.RunUntil(() => pair.ClientOwner.ReleasedCount == 1, 10_000));
        Assert.InRange((int)(pair.Now - entered), 1_990, 2_010);
        Assert.Equal(TcpState.Closed, pair.Client.State);
        Assert.Equal(1, pair.ClientEvents.ClosedCount);
        Assert.False(pair.Client.IsScheduled);
        Assert.False(pair.Client.HoldsBuffers);
    }

    [Fact]
    public void SimultaneousCloseGoesThroughClosing()
    {
        var pair = new ConnectionPair(62, ShortTimeWait, ShortTimeWait);
        pair.Connect();
        var server = pair.Server;
        var sawClosing = false;
        pair.Client.Shutdown(pair.Now);
        server.Shutdown(pair.Now);
        Assert.True(pair.Link.RunUntil(
            () =>
            {
                sawClosing |= pair.Client.State == TcpState.Closing && server.State == TcpState.Closing;
                return pair.Client.State == TcpState.TimeWait && server.State == TcpState.TimeWait;
            },
            5_000));
        Assert.True(sawClosing);
        Assert.True(pair.Link.RunUntil(() => pair.ClientOwner.ReleasedCount == 1 && pair.ServerOwner.ReleasedCount == 1, 5_000));
    }

    [Fact]
    public void HalfCloseKeepsTheOtherDirectionFlowing()
    {
        // Client closes its side, then keeps receiving (FIN-WAIT-2); the server keeps sending in CLOSE-WAIT.
        var pair = new ConnectionPair(63, ShortTimeWait, ShortTimeWait);
        pair.Connect();
        var server = pair.Server;
        pair.Client.Shutdown(pair.Now);
        Assert.True(pair.Link.RunUntil(() => pair.Client.State == TcpState.FinWait2, 5_000));
        Assert.Equal(0, pair.Client.Send(new byte[10], pair.Now));
        Assert.True(pair.Transfer(server, pair.Client, 300_000, 63));
        Assert.Equal(TcpState.CloseWait, server.State);
        server.Shutdown(pair.Now);
        Assert.True(pair.Link.RunUntil(() => pair.Client.IsReceiveComplete && server.State == TcpState.Closed, 5_000));

        // And the other way: the server closes first while the client keeps sending.
        var pair2 = new ConnectionPair(64, ShortTimeWait, ShortTimeWait);
        pair2.Connect();
        var server2 = pair2.Server;
        server2.Shutdown(pair2.Now);
        Assert.True(pair2.Link.RunUntil(() => pair2.Client.State == TcpState.CloseWait && server2.State == TcpState.FinWait2, 5_000));
        Assert.True(pair2.Client.IsReceiveComplete);
        Assert.True(pair2.Transfer(pair2.Client, server2, 300_000, 64));
        pair2.Client.Shutdown(pair2.Now);
        Assert.True(pair2.Link.RunUntil(() => pair2.Client.State == TcpState.Closed && server2.State == TcpState.TimeWait, 5_000));
    }

    [Fact]
    public void FinIsRetransmittedWhenLost()
    {
        var pair = new ConnectionPair(65, ShortTimeWait, ShortTimeWait);
        pair.Connect();
        var dropped = 0;
        pair.Link.A.Filter = (in TcpFlowKey f, in TcpHeader h, ReadOnlySpan<byte> p) => !h.Has(TcpFlags.Fin) || dropped++ > 0;
        pair.Client.Shutdown(pair.Now);
        Assert.True(pair.Link.RunUntil(() => pair.Server.State == TcpState.CloseWait, 10_000));
        Assert.Equal(1, pair.ClientOwner.Counters.RtoExpirations);
    }

    [Fact]
    public void FinInFinWait2IsAckedOnceWithNoDelayedAckInTimeWait()
    {
        // The HTTP "Connection: close" pattern: the server answers and closes, the client reads and closes after it.
        // A delayed ACK left armed into TIME-WAIT reached the client after LAST-ACK had closed it; it answered RST.
        var pair = new ConnectionPair(67, ShortTimeWait, ShortTimeWait);
        pair.Connect();
        var server = pair.Server;
        Assert.Equal(151, server.Send(new byte[151], pair.Now));
        server.Shutdown(pair.Now);
        Assert.True(pair.Link.RunUntil(() => pair.Client.State == TcpState.CloseWait && server.State == TcpState.FinWait2, 5_000));
        pair.Client.Shutdown(pair.Now);
        Assert.True(pair.Link.RunUntil(() => server.State == TcpState.TimeWait && pair.Client.State == TcpState.Closed, 5_000));
        var sent = pair.Link.B.Sent;
        var delayedAcks = pair.ServerOwner.Counters.DelayedAcks;
        pair.Link.Advance(1_000);
        Assert.Equal(sent, pair.Link.B.Sent);
        Assert.Equal(delayedAcks, pair.ServerOwner.Counters.DelayedAcks);
        Assert.Equal(0, pair.ServerOwner.Counters.RtoExpirations);
        Assert.Equal(TcpState.TimeWait, server.State);
    }

    [Fact]
    public void AbortSendsResetAndThePeerSeesIt()
    {
        var pair = new ConnectionPair(66);
        pair.Connect();
        var server = pair.Server;
        pair.Client.Abort(pair.Now);
        Assert.Equal(TcpState.Closed, pair.Client.State);
        Assert.Equal(TcpCloseReason.Aborted, pair.ClientEvents.ClosedReason);
        Assert.True(pair.Link.RunUntil(() => server.State == TcpState.Closed, 1_000));
        Assert.Equal(TcpCloseReason.Reset, pair.ServerEvents.ClosedReason);
        Assert.Equal(1, pair.ServerOwner.Counters.ResetsReceived);
    }

    [Fact]
    public void NewerSynReopensATimeWaitConnection()
    {
        var pair = new ConnectionPair(67, new TcpConnectionOptions { TimeWaitMs = 60_000 }, null);
        pair.Connect();
        var server = pair.Server;

        // The server closes first, so the server sits in TIME-WAIT.
        server.Shutdown(pair.Now);
        Assert.True(pair.Link.RunUntil(() => pair.Client.State == TcpState.CloseWait, 5_000));
        pair.Client.Shutdown(pair.Now);
        Assert.True(pair.Link.RunUntil(() => server.State == TcpState.TimeWait && pair.Client.State == TcpState.Closed, 5_000));

        // A new client incarnation on the same 4-tuple with a higher ISN.
        var client2 = new TcpConnection(pair.ClientOwner, ConnectionPair.ClientFlow, new TcpConnectionOptions());
        pair.ClientOwner.Connection = client2;
        client2.OpenActive(0x2000_0000, pair.Now);
        Assert.True(pair.Link.RunUntil(() => client2.State == TcpState.Established && server.State == TcpState.Established, 5_000), $"{client2.State} {server.State}");
        Assert.Equal(1, pair.ServerOwner.Counters.TimeWaitReused);
        Assert.True(pair.Transfer(client2, server, 100_000, 67));
    }
}
