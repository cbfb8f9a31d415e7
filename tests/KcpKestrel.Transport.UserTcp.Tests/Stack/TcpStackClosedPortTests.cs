using System.Net;
using KcpKestrel.Shared;
using KcpKestrel.Transport.UserTcp.Tcp;
using static KcpKestrel.Transport.UserTcp.Tests.Stack.StackSegments;

namespace KcpKestrel.Transport.UserTcp.Tests.Stack;

/// <summary>What the stack does with segments no connection or listener takes, and with impossible flag sets.</summary>
public sealed class TcpStackClosedPortTests : IDisposable
{
    private readonly RecordingSegmentOutput _output = new();
    private readonly TcpStack _stack;

    public TcpStackClosedPortTests() =>
        _stack = new TcpStack(new TcpStackOptions(), _output, new TimerWheel(), new byte[16]);

    public void Dispose() => _stack.Dispose();

    [Fact]
    public void SynToAClosedPort_GetsRstAck_AcknowledgingTheSyn()
    {
        _stack.OnSegment(Flow(), Syn(seq: 5000), default, 1_000);

        var (flow, reset, length) = Assert.Single(_output.Segments);
        Assert.Equal(Flow(), flow);
        Assert.Equal(TcpFlags.Rst | TcpFlags.Ack, reset.Flags);
        Assert.Equal(0u, reset.Seq);
        Assert.Equal(5001u, reset.Ack);
        Assert.Equal(0, length);
        Assert.Equal(1, _stack.Counters.ResetsSent);
        Assert.Equal(1, _stack.Counters.DroppedNoConnection);
        Assert.Equal(0, _stack.ConnectionCount);
    }

    [Fact]
    public void AckToAClosedPort_GetsRstAtItsAckNumber()
    {
        _stack.OnSegment(Flow(), Segment(TcpFlags.Ack | TcpFlags.Psh, 10, 999), new byte[100], 1_000);

        var (_, reset, _) = Assert.Single(_output.Segments);
        Assert.Equal(TcpFlags.Rst, reset.Flags);
        Assert.Equal(999u, reset.Seq);
    }

    [Fact]
    public void DataWithoutAck_IsAcknowledgedInTheReset_CountingFin()
    {
        _stack.OnSegment(Flow(), Segment(TcpFlags.Rst | TcpFlags.Ack, 1, 1), default, 1_000); // a reset first: ignored
        _stack.OnSegment(Flow(), Segment(TcpFlags.Ack | TcpFlags.Fin, 10, 7), new byte[5], 1_000);

        var (_, reset, _) = Assert.Single(_output.Segments);
        Assert.Equal(7u, reset.Seq);
        Assert.Equal(2, _stack.Counters.DroppedNoConnection);
    }

    [Fact]
    public void ResetsAreNeverAnsweredWithResets()
    {
        _stack.OnSegment(Flow(), Segment(TcpFlags.Rst, 10), default, 1_000);
        _stack.OnSegment(Flow(), Segment(TcpFlags.Rst | TcpFlags.Ack, 10, 20), default, 1_000);

        Assert.Empty(_output.Segments);
        Assert.Equal(0, _stack.Counters.ResetsSent);
    }

    [Theory]
    [InlineData((int)(TcpFlags.Syn | TcpFlags.Fin))]
    [InlineData((int)(TcpFlags.Syn | TcpFlags.Rst))]
    [InlineData((int)TcpFlags.None)]
    [InlineData((int)TcpFlags.Fin)]
    [InlineData((int)(TcpFlags.Fin | TcpFlags.Psh | TcpFlags.Urg))]
    [InlineData(0xFF)]
    [InlineData((int)(TcpFlags.Syn | TcpFlags.Ack | TcpFlags.Fin))]
    public void ImpossibleFlags_AreDroppedAndCounted_ToAListenerOrNot(int value)
    {
        var flags = (TcpFlags)value;
        _stack.Listen(new IPEndPoint(IPAddress.Any, 8080), new RecordingAcceptor());
        _stack.OnSegment(Flow(), Segment(flags, 10, 20), default, 1_000);
        _stack.OnSegment(Flow(localPort: 9), Segment(flags, 10, 20), default, 1_000);

        Assert.Empty(_output.Segments);
        Assert.Equal(2, _stack.Counters.DroppedInvalidFlags);
        Assert.Equal(0, _stack.ConnectionCount);
    }

    [Fact]
    public void AFloodOfJunk_GetsAtMostTheResetBudget()
    {
        var random = new Random(5);
        for (var i = 0; i < 20_000; i++)
        {
            _stack.OnSegment(Flow(remotePort: random.Next(1, 65536)), Segment(TcpFlags.Ack, (uint)random.Next(), (uint)random.Next()), default, 1_000);
        }

        Assert.Equal(1_000, _output.Segments.Count);
        Assert.Equal(1_000, _stack.Counters.ResetsSent);
        Assert.Equal(19_000, _stack.Counters.ResetsRateLimited);
        Assert.Equal(20_000, _stack.Counters.DroppedNoConnection);

        // Half a second later the bucket has earned 500 more.
        _output.Clear();
        for (var i = 0; i < 2_000; i++)
        {
            _stack.OnSegment(Flow(), Segment(TcpFlags.Ack, 1, 1), default, 1_500);
        }

        Assert.Equal(500, _output.Segments.Count);
    }

    [Fact]
    public void ChallengeAckBudget_IsStackWide_AndCountsWhatItRefuses()
    {
        var taken = 0;
        for (var i = 0; i < 1_500; i++)
        {
            taken += _stack.TryTakeChallengeAck(2_000) ? 1 : 0;
        }

        Assert.Equal(1_000, taken);
        Assert.Equal(500, _stack.Counters.ChallengeAcksLimited);
        Assert.True(_stack.TryTakeChallengeAck(3_000));
    }

    [Fact]
    public void Listeners_AreUniquePerAddressAndPort_AndStopping_ClosesThePort()
    {
        var acceptor = new RecordingAcceptor();
        _stack.Listen(new IPEndPoint(IPAddress.Any, 8080), acceptor);
        _stack.Listen(new IPEndPoint(Local, 8080), acceptor); // a specific address beside the wildcard is fine
        Assert.Throws<System.Net.Sockets.SocketException>(() => _stack.Listen(new IPEndPoint(IPAddress.Any, 8080), acceptor));

        Assert.True(_stack.StopListening(new IPEndPoint(IPAddress.Any, 8080)));
        Assert.True(_stack.StopListening(new IPEndPoint(Local, 8080)));
        Assert.False(_stack.StopListening(new IPEndPoint(Local, 8080)));

        _stack.OnSegment(Flow(), Syn(), default, 1_000);
        Assert.Equal(TcpFlags.Rst | TcpFlags.Ack, Assert.Single(_output.Segments).Header.Flags);
    }

    [Fact]
    public void AListenerOnAnotherAddress_DoesNotTakeTheSegment()
    {
        _stack.Listen(new IPEndPoint(IPAddress.Parse("10.77.0.9"), 8080), new RecordingAcceptor());
        _stack.Listen(new IPEndPoint(IPAddress.IPv6Loopback, 8080), new RecordingAcceptor());
        _stack.OnSegment(Flow(), Syn(), default, 1_000);

        Assert.Equal(TcpFlags.Rst | TcpFlags.Ack, Assert.Single(_output.Segments).Header.Flags);
    }

    [Fact]
    public void AnAckToAListener_ThatIsNoCookie_GetsAReset()
    {
        _stack.Listen(new IPEndPoint(IPAddress.Any, 8080), new RecordingAcceptor());
        _stack.OnSegment(Flow(), Segment(TcpFlags.Ack, 100, 200), default, 1_000);
        _stack.OnSegment(Flow(), Segment(TcpFlags.Rst, 100), default, 1_000);

        var (_, reset, _) = Assert.Single(_output.Segments);
        Assert.Equal(TcpFlags.Rst, reset.Flags);
        Assert.Equal(200u, reset.Seq);
        Assert.Equal(1, _stack.Counters.RstIgnored);
        Assert.Equal(0, _stack.Counters.DroppedBadCookie); // no cookies were sent: just a stray ACK
    }

    [Fact]
    public void TheIPv4Wildcard_TakesOnlyIPv4_TheIPv6WildcardTakesBoth()
    {
        var v6 = TcpFlowKey.From(new IPEndPoint(IPAddress.Parse("fd00:77::1"), 8080), new IPEndPoint(IPAddress.Parse("fd00:77::2"), 40000));
        using var stack = new TcpStack(new TcpStackOptions { SynCookies = SynCookieMode.Always }, _output, new TimerWheel(), new byte[16]);
        stack.Listen(new IPEndPoint(IPAddress.Any, 8080), new RecordingAcceptor());
        stack.OnSegment(v6, Syn(), default, 1_000);
        Assert.Equal(TcpFlags.Rst | TcpFlags.Ack, _output.Last.Flags);

        stack.Listen(new IPEndPoint(IPAddress.IPv6Any, 8081), new RecordingAcceptor());
        stack.OnSegment(TcpFlowKey.From(new IPEndPoint(IPAddress.Parse("fd00:77::1"), 8081), new IPEndPoint(IPAddress.Parse("fd00:77::2"), 40000)), Syn(), default, 1_000);
        Assert.Equal(TcpFlags.Syn | TcpFlags.Ack, _output.Last.Flags);
        stack.OnSegment(Flow(localPort: 8081), Syn(), default, 1_000);
        Assert.Equal(TcpFlags.Syn | TcpFlags.Ack, _output.Last.Flags);
        Assert.Equal(2, stack.Counters.SynCookiesSent);
    }

    [Fact]
    public void AShortSecret_IsRefused()
    {
        Assert.Throws<ArgumentException>(() => new TcpStack(new TcpStackOptions(), _output, new TimerWheel(), new byte[8]));
    }
}
