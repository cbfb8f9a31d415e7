using KcpKestrel.Core.Arq;

namespace KcpKestrel.Core.Tests.Arq;

/// <summary>
/// Recovery of a lone lost segment on sparse traffic (a ping-pong: nothing follows it, so no later ack can trigger
/// a fast retransmit), in virtual time: when the retransmission goes out, and what the tail loss probe adds.
/// </summary>
public sealed class KcpSparseRecoveryTests
{
    private const uint Conv = 0x51A55E;
    private const uint Start = 1_000;

    /// <summary>A and B with fast3, one clean round trip done at <see cref="Start"/> (so srtt is known, rto is minrto).</summary>
    private static (KcpControlBlock A, CapturingOutput AOut, KcpControlBlock B, CapturingOutput BOut) Pair()
    {
        var ao = new CapturingOutput();
        var bo = new CapturingOutput();
        var a = new KcpControlBlock(Conv, ao);
        var b = new KcpControlBlock(Conv, bo);
        KcpNoDelayPreset.Fast3.ApplyTo(a);
        KcpNoDelayPreset.Fast3.ApplyTo(b);
        a.Update(Start);
        b.Update(Start);
        a.Send(new byte[64]);
        a.FlushAt(Start);
        Deliver(ao, b, Start);
        b.FlushAt(Start);
        Deliver(bo, a, Start);
        var buffer = new byte[256];
        Assert.Equal(64, b.Receive(buffer));
        Assert.Equal(0, a.WaitSnd);
        return (a, ao, b, bo);
    }

    private static void Deliver(CapturingOutput from, KcpControlBlock to, uint now)
    {
        foreach (var datagram in from.Take())
        {
            Assert.Equal(KcpInputResult.Ok, to.Input(datagram, now));
        }
    }

    /// <summary>Drives <paramref name="kcp"/> the way a session does (Check, then Update when due) until it emits something.</summary>
    private static uint NextEmission(KcpControlBlock kcp, CapturingOutput output, uint from, uint limit)
    {
        for (var now = from; now < limit; now++)
        {
            if ((int)(kcp.Check(now) - now) <= 0)
            {
                kcp.Update(now);
            }

            if (output.Datagrams.Count > 0)
            {
                return now;
            }
        }

        return limit;
    }

    [Fact]
    public void Update_LoneLostSegment_ResentWhenItsRtoFallsDueNotAtTheNextIntervalTick()
    {
        var (a, ao, b, _) = Pair();
        using (a)
        using (b)
        {
            const uint sentAt = Start + 3; // off the 10 ms interval grid that started at Start
            a.Send(new byte[64]);
            a.FlushAt(sentAt);
            Assert.Single(ao.Take()); // lost
            var rto = a.Statistics.Rto;

            var resentAt = NextEmission(a, ao, sentAt + 1, sentAt + 200);

            Assert.Equal(sentAt + rto, resentAt);
            Assert.Equal(1ul, a.Statistics.TimeoutRetransmits);
        }
    }
}
