using KcpKestrel.Transport.UserTcp.Tcp;

namespace KcpKestrel.Transport.UserTcp.Tests.Connection;

/// <summary>RFC 5961 (blind RST, SYN and data injection), PAWS and out-of-window segments, aimed at an ESTABLISHED client.</summary>
public class DefenceTests
{
    private readonly ConnectionPair _pair;
    private TcpHeader _lastFromServer;
    private int _lastLength;

    public DefenceTests()
    {
        _pair = new ConnectionPair(71);
        _pair.Link.B.Filter = (in TcpFlowKey f, in TcpHeader h, ReadOnlySpan<byte> p) =>
        {
            _lastFromServer = h;
            _lastLength = p.Length + (h.Has(TcpFlags.Syn) || h.Has(TcpFlags.Fin) ? 1 : 0);
            return true;
        };
        _pair.Connect();
        Assert.True(_pair.Transfer(_pair.Server, _pair.Client, 10_000, 71));
        _pair.Link.Advance(500); // quiet: every ACK delivered
    }

    /// <summary>The client's RCV.NXT and SND.NXT as the server's last segment shows them.</summary>
    private uint RcvNxt => _lastFromServer.Seq + (uint)_lastLength;

    private uint SndNxt => _lastFromServer.Ack;

    private Counters C => new(_pair.ClientOwner.Counters);

    [Fact]
    public void RstAtExactlyRcvNxtResets()
    {
        Inject(new TcpHeader { Seq = RcvNxt, Flags = TcpFlags.Rst });
        Assert.Equal(TcpState.Closed, _pair.Client.State);
        Assert.Equal(TcpCloseReason.Reset, _pair.ClientEvents.ClosedReason);
    }

    [Fact]
    public void RstInWindowButNotExactGetsAChallengeAck()
    {
        var sent = _pair.Link.A.Sent;
        Inject(new TcpHeader { Seq = RcvNxt + 1000, Flags = TcpFlags.Rst });
        Assert.Equal(TcpState.Established, _pair.Client.State);
        Assert.Equal(1, C.Raw.ChallengeAcksSent);
        Assert.Equal(1, C.Raw.RstIgnored);
        Assert.Equal(sent + 1, _pair.Link.A.Sent);
    }

    [Fact]
    public void RstOutOfWindowIsDroppedSilently()
    {
        var sent = _pair.Link.A.Sent;
        Inject(new TcpHeader { Seq = RcvNxt + 50_000_000, Flags = TcpFlags.Rst });
        Inject(new TcpHeader { Seq = RcvNxt - 1, Flags = TcpFlags.Rst });
        Assert.Equal(TcpState.Established, _pair.Client.State);
        Assert.Equal(2, C.Raw.RstIgnored);
        Assert.Equal(0, C.Raw.ChallengeAcksSent);
        Assert.Equal(sent, _pair.Link.A.Sent);
    }

    [Fact]
    public void BlindSynGetsAChallengeAckNotAReset()
    {
        var sent = _pair.Link.A.Sent;
        Inject(new TcpHeader { Seq = RcvNxt + 5, Flags = TcpFlags.Syn, Window = 1000 });
        Inject(new TcpHeader { Seq = 12345, Flags = TcpFlags.Syn, Window = 1000 });
        Assert.Equal(TcpState.Established, _pair.Client.State);
        Assert.Equal(2, C.Raw.SynIgnored);
        Assert.Equal(2, C.Raw.ChallengeAcksSent); // RFC 5961 §4.2: in the window or not, a challenge ACK
        Assert.Equal(0, C.Raw.DuplicateSegments + C.Raw.DroppedOutOfWindow);
        Assert.Equal(0, C.Raw.ResetsSent);
        Assert.Equal(sent + 2, _pair.Link.A.Sent);
        Assert.True(_pair.Transfer(_pair.Client, _pair.Server, 10_000, 72));
    }

    [Fact]
    public void OutOfWindowSynsGetChallengeAcksFromTheBudget()
    {
        _pair.ClientOwner.ChallengeAcksPerSecond = 2;
        var sent = _pair.Link.A.Sent;
        Inject(new TcpHeader { Seq = RcvNxt - 100_000, Flags = TcpFlags.Syn, Window = 1000 }); // behind RCV.NXT
        Inject(new TcpHeader { Seq = RcvNxt + 50_000_000, Flags = TcpFlags.Syn, Window = 1000 }); // far ahead
        Inject(new TcpHeader { Seq = RcvNxt + 60_000_000, Flags = TcpFlags.Syn | TcpFlags.Ack, Ack = SndNxt, Window = 1000 });
        Assert.Equal(TcpState.Established, _pair.Client.State);
        Assert.Equal(3, C.Raw.SynIgnored);
        Assert.Equal(2, C.Raw.ChallengeAcksSent);
        Assert.Equal(1, C.Raw.ChallengeAcksLimited);
        Assert.Equal(0, C.Raw.DuplicateSegments + C.Raw.DroppedOutOfWindow);
        Assert.Equal(sent + 2, _pair.Link.A.Sent); // the budget's two, nothing for the third
    }

    [Fact]
    public void ChallengeAcksAreBudgeted()
    {
        _pair.ClientOwner.ChallengeAcksPerSecond = 2;
        for (var i = 0; i < 5; i++)
        {
            Inject(new TcpHeader { Seq = RcvNxt + 100 + (uint)i, Flags = TcpFlags.Rst });
        }

        Assert.Equal(2, C.Raw.ChallengeAcksSent);
        Assert.Equal(3, C.Raw.ChallengeAcksLimited);
        Assert.Equal(TcpState.Established, _pair.Client.State);
    }

    [Fact]
    public void AckOfUnsentOrAncientDataIsDropped()
    {
        Inject(new TcpHeader { Seq = RcvNxt, Ack = SndNxt + 100_000, Flags = TcpFlags.Ack, Window = 1000 });
        Inject(new TcpHeader { Seq = RcvNxt, Ack = SndNxt - 1_000_000_000, Flags = TcpFlags.Ack, Window = 1000 });
        Assert.Equal(2, C.Raw.DroppedBadAck);
        Assert.Equal(2, C.Raw.ChallengeAcksSent);
        Assert.Equal(TcpState.Established, _pair.Client.State);
        Assert.True(_pair.Transfer(_pair.Client, _pair.Server, 10_000, 73));
    }

    [Fact]
    public void DataOutsideTheWindowIsDroppedAndAcked()
    {
        var sent = _pair.Link.A.Sent;
        Inject(new TcpHeader { Seq = RcvNxt + 10_000_000, Ack = SndNxt, Flags = TcpFlags.Ack, Window = 1000 }, new byte[100]);
        Assert.Equal(1, C.Raw.DroppedOutOfWindow);
        Assert.Equal(0, _pair.Client.ReceivableBytes);
        Assert.Equal(sent + 1, _pair.Link.A.Sent);
    }

    [Fact]
    public void OldTimestampIsRejectedByPaws()
    {
        var old = new TcpHeader { Seq = RcvNxt, Ack = SndNxt, Flags = TcpFlags.Ack, Window = 1000 };
        old.Options.HasTimestamps = true;
        old.Options.TsVal = _lastFromServer.Options.TsVal - 100_000;
        old.Options.TsEcr = _lastFromServer.Options.TsEcr;
        Inject(old, new byte[100]);
        Assert.Equal(1, C.Raw.DroppedPaws);
        Assert.Equal(0, _pair.Client.ReceivableBytes);
    }

    private void Inject(TcpHeader header, byte[]? payload = null) =>
        _pair.Link.A.Inject(ConnectionPair.ClientFlow, header, payload ?? []);

    private readonly record struct Counters(TcpCounters Raw);
}
