using System.Net;
using KcpKestrel.Shared;
using KcpKestrel.Transport.UserTcp.Tcp;
using static KcpKestrel.Transport.UserTcp.Tests.Stack.StackSegments;

namespace KcpKestrel.Transport.UserTcp.Tests.Stack;

/// <summary>SYN cookies through the stack: stateless SYN-ACKs, and what it does with ACKs that claim to return one.</summary>
public sealed class TcpStackCookieTests
{
    private readonly RecordingSegmentOutput _output = new();

    private TcpStack Create(SynCookieMode mode = SynCookieMode.Always, int backlog = 256)
    {
        var stack = new TcpStack(new TcpStackOptions { SynCookies = mode, SynBacklog = backlog }, _output, new TimerWheel(), new byte[16]);
        stack.Listen(new IPEndPoint(IPAddress.Any, 8080), new RecordingAcceptor());
        return stack;
    }

    [Fact]
    public void ACookieSynAck_CarriesOurOptions_AndKeepsNoState()
    {
        var stack = Create();
        stack.OnSegment(Flow(), Syn(seq: 1000), default, 5_000);

        var (flow, synAck, length) = Assert.Single(_output.Segments);
        Assert.Equal(Flow(), flow);
        Assert.Equal(TcpFlags.Syn | TcpFlags.Ack, synAck.Flags);
        Assert.Equal(1001u, synAck.Ack);
        Assert.Equal(0, length);
        Assert.Equal(1460, synAck.Options.Mss);
        Assert.True(synAck.Options.HasWindowScale);
        Assert.Equal(TcpConnection.ReceiveWindowScale(new TcpConnectionOptions()), synAck.Options.WindowScale);
        Assert.True(synAck.Options.SackPermitted);
        Assert.True(synAck.Options.HasTimestamps);
        Assert.Equal(12345u, synAck.Options.TsEcr);
        Assert.Equal(0, stack.ConnectionCount);
        Assert.Equal(0, stack.HalfOpenCount);
        Assert.Equal(1, stack.Counters.SynCookiesSent);
    }

    [Fact]
    public void WithoutThePeersOptions_TheSynAckOffersNone()
    {
        var stack = Create();
        var syn = Segment(TcpFlags.Syn, 1000, window: 8192);
        stack.OnSegment(Flow(), syn, default, 5_000);

        var synAck = Assert.Single(_output.Segments).Header;
        Assert.False(synAck.Options.HasWindowScale);
        Assert.False(synAck.Options.SackPermitted);
        Assert.False(synAck.Options.HasTimestamps);
        Assert.Equal(1460, synAck.Options.Mss);
    }

    [Fact]
    public void ForgedAcks_AreRejected_AndCounted()
    {
        var stack = Create();
        stack.OnSegment(Flow(), Syn(seq: 1000), default, 5_000);
        var cookie = _output.Last.Seq;
        _output.Clear();

        // Random ack numbers.
        var random = new Random(11);
        for (var i = 0; i < 1_000; i++)
        {
            stack.OnSegment(Flow(remotePort: random.Next(1, 65536)), Segment(TcpFlags.Ack, 1001, (uint)random.NextInt64(0, 1L << 32)), default, 5_000);
        }

        // The right cookie on the wrong tuple, or with the wrong sequence number.
        stack.OnSegment(Flow(remotePort: 40001), Segment(TcpFlags.Ack, 1001, cookie + 1), default, 5_000);
        stack.OnSegment(Flow(), Segment(TcpFlags.Ack, 2001, cookie + 1), default, 5_000);

        // The right cookie, expired (three counter units on).
        stack.OnSegment(Flow(), Segment(TcpFlags.Ack, 1001, cookie + 1), default, 5_000 + (3 * 65_536));

        Assert.Equal(0, stack.ConnectionCount);
        Assert.Equal(0, stack.Counters.SynCookiesAccepted);
        Assert.Equal(1_003, stack.Counters.DroppedBadCookie); // cookies always on: every ACK to the listener is checked as one
        Assert.Equal(0, stack.Counters.DroppedNoConnection);
        Assert.All(_output.Segments, s => Assert.Equal(TcpFlags.Rst, s.Header.Flags));
    }

    [Fact]
    public void ACookieSyn_AllocatesNothing()
    {
        var stack = Create();
        _output.Keep = false;
        var random = new Random(4);
        var syn = Syn();
        Flood(stack, random, syn, 1_000);

        var windows = 0;
        var allocated = SteadyStateAllocations.Measure(() =>
        {
            windows++;
            Flood(stack, random, syn, 20_000);
        });

        Assert.Equal(0, allocated);
        Assert.Equal(1_000 + (windows * 20_000), stack.Counters.SynCookiesSent);
    }

    [Fact]
    public void OnDemand_AcksAreCheckedAsCookiesOnlyWhileCookiesAreRecent()
    {
        var stack = Create(SynCookieMode.WhenBacklogFull, backlog: 0);
        stack.OnSegment(Flow(), Syn(seq: 1000), default, 5_000);
        stack.OnSegment(Flow(remotePort: 1), Segment(TcpFlags.Ack, 1, 1), default, 5_000);
        stack.OnSegment(Flow(remotePort: 1), Segment(TcpFlags.Ack, 1, 1), default, 5_000 + (3 * 65_536));

        Assert.Equal(1, stack.Counters.DroppedBadCookie);
        Assert.Equal(1, stack.Counters.DroppedNoConnection);
    }

    [Fact]
    public void WithCookiesOff_SynsPastTheBacklogAreDropped()
    {
        var stack = Create(SynCookieMode.Never, backlog: 0);
        stack.OnSegment(Flow(), Syn(), default, 1_000);

        Assert.Empty(_output.Segments);
        Assert.Equal(1, stack.Counters.DroppedListenQueueFull);
    }

    internal static void Flood(TcpStack stack, Random random, TcpHeader syn, int count)
    {
        Span<byte> address = stackalloc byte[4];
        for (var i = 0; i < count; i++)
        {
            random.NextBytes(address);
            var flow = new TcpFlowKey(TcpFlowKey.ToUInt128(Local), 8080, TcpFlowKey.FromIPv4(address), (ushort)random.Next(1, 65536), false);
            syn.Seq = (uint)random.Next();
            stack.OnSegment(flow, syn, default, 10_000);
        }
    }
}
