using KcpKestrel.Core.Arq;

namespace KcpKestrel.Core.Tests.Arq;

/// <summary>
/// Recovery of a lone lost segment on sparse traffic (a ping-pong: nothing follows it, so no later ack can trigger
/// a fast retransmit), in virtual time: when the retransmission goes out, and what the tail loss probe adds.
/// </summary>
[Collection(AllocationMeasurementCollection.Name)]
public sealed class KcpSparseRecoveryTests
{
    private const uint Conv = 0x51A55E;
    private const uint Start = 1_000;

    /// <summary>A and B with fast3, one clean round trip done at <see cref="Start"/> (so srtt is known, rto is minrto).</summary>
    private static (KcpControlBlock A, CapturingOutput AOut, KcpControlBlock B, CapturingOutput BOut) Pair(bool tailLossProbe)
    {
        var ao = new CapturingOutput();
        var bo = new CapturingOutput();
        var a = new KcpControlBlock(Conv, ao) { TailLossProbe = tailLossProbe };
        var b = new KcpControlBlock(Conv, bo) { TailLossProbe = tailLossProbe };
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
        var (a, ao, b, _) = Pair(tailLossProbe: false);
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

    [Fact]
    public void TailLossProbe_Off_LoneLostSegmentWaitsForTheRto()
    {
        var (a, ao, b, _) = Pair(tailLossProbe: false);
        using (a)
        using (b)
        {
            a.Send(new byte[64]);
            a.FlushAt(Start + 1);
            ao.Take();

            var resentAt = NextEmission(a, ao, Start + 2, Start + 200);

            Assert.Equal(Start + 1 + a.Statistics.Rto, resentAt);
            Assert.Equal(0ul, a.Statistics.TailLossProbes);
        }
    }

    [Fact]
    public void TailLossProbe_LoneLostSegment_ProbedBeforeTheRtoAndDelivered()
    {
        var (a, ao, b, bo) = Pair(tailLossProbe: true);
        using (a)
        using (b)
        {
            a.Send(new byte[64]);
            a.FlushAt(Start + 1);
            ao.Take(); // lost

            var probedAt = NextEmission(a, ao, Start + 2, Start + 200);

            Assert.True(probedAt < Start + 1 + a.Statistics.Rto, $"probe at +{probedAt - Start - 1} ms, rto {a.Statistics.Rto} ms");
            Assert.Equal(1ul, a.Statistics.TailLossProbes);
            Assert.Equal(0ul, a.Statistics.TimeoutRetransmits);
            Deliver(ao, b, probedAt);
            Assert.Equal(64, b.Receive(new byte[256]));
            b.FlushAt(probedAt);
            Deliver(bo, a, probedAt);
            Assert.Equal(0, a.WaitSnd);
        }
    }

    [Fact]
    public void TailLossProbe_ProbeIsNotATransmission_DeadLinkCountUnchanged()
    {
        var (a, ao, b, _) = Pair(tailLossProbe: true);
        using (a)
        using (b)
        {
            a.DeadLink = 2;
            a.Send(new byte[64]);
            a.FlushAt(Start + 1);
            ao.Take();

            var probedAt = NextEmission(a, ao, Start + 2, Start + 200);
            ao.Take();

            Assert.Equal(1ul, a.Statistics.TailLossProbes);
            Assert.False(a.IsDeadLink);
            Assert.True(NextEmission(a, ao, probedAt + 1, Start + 200) < Start + 200); // the rto still fires
            Assert.True(a.IsDeadLink);
        }
    }

    [Fact]
    public void TailLossProbe_FullWindowOfBulkData_NeverProbes()
    {
        var (a, ao, b, _) = Pair(tailLossProbe: true);
        using (a)
        using (b)
        {
            a.SetWindowSize(64, 64);
            for (var i = 0; i < 32; i++)
            {
                a.Send(new byte[a.Mss]);
            }

            a.FlushAt(Start + 1);
            ao.Take(); // all lost

            NextEmission(a, ao, Start + 2, Start + 200);

            Assert.Equal(0ul, a.Statistics.TailLossProbes);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void TailLossProbe_SeededLossyLinkPingPong_RecoversLostPingsBeforeTheRto(int seed)
    {
        // 20% loss each way, the same seed for both runs: many lost pings and pongs. Without the probe each one
        // waits out an rto; with it most are repaired before the rto, so far fewer round trips take that long.
        var withProbe = PingPong(seed, tailLossProbe: true);
        var without = PingPong(seed, tailLossProbe: false);

        Assert.Equal(200, withProbe.Completed);
        Assert.Equal(200, without.Completed);
        Assert.True(withProbe.Probes > 0);
        Assert.True(without.WaitedForRto > 20, $"{without}");
        Assert.True(withProbe.WaitedForRto * 2 < without.WaitedForRto, $"with {withProbe}, without {without}");
        Assert.True(withProbe.VirtualMs < without.VirtualMs, $"with {withProbe}, without {without}");
    }

    [Fact]
    public void TailLossProbe_SteadyStateProbing_AllocatesNothing()
    {
        var output = new CountingOutput();
        using var a = new KcpControlBlock(Conv, output) { TailLossProbe = true, BufferPool = System.Buffers.ArrayPool<byte>.Create(2048, 16) };
        KcpNoDelayPreset.Fast3.ApplyTo(a);
        var payload = new byte[64];
        var ack = new byte[SegmentHeader.Size];
        uint now = Start, sn = 0;

        // Each cycle: a lone segment sent and lost, probed, then acknowledged.
        void Cycle()
        {
            a.Send(payload);
            a.FlushAt(now);
            now += 10;
            a.Update(now);
            new SegmentHeader(Conv, KcpCommand.Ack, 0, 32, now - 10, sn, sn + 1, 0).Write(ack);
            a.Input(ack, now);
            sn++;
        }

        for (var i = 0; i < 200; i++)
        {
            Cycle();
        }

        var probesBefore = a.Statistics.TailLossProbes;
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            Cycle();
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(1000ul, a.Statistics.TailLossProbes - probesBefore);
        Assert.Equal(0, allocated);
    }

    private sealed class CountingOutput : IKcpOutput
    {
        public int Count { get; private set; }

        public void Output(Span<byte> buffer) => Count++;
    }

    private sealed record PingPongResult(int Completed, ulong Probes, int WaitedForRto, long VirtualMs);

    private static PingPongResult PingPong(int seed, bool tailLossProbe)
    {
        var link = new SimulatedLink(seed, loss: 0.2, delayMs: 1, jitterMs: 0, duplication: 0);
        using var pair = new LinkedPair(link, Conv, Start);
        foreach (var kcp in new[] { pair.A, pair.B })
        {
            KcpNoDelayPreset.Fast3.ApplyTo(kcp);
            kcp.TailLossProbe = tailLossProbe;
            kcp.DeadLink = 1000;
        }

        var buffer = new byte[256];
        var completed = 0;
        var waitedForRto = 0;
        for (var i = 0; i < 200; i++)
        {
            var sentAt = link.Now;
            pair.A.Send(new byte[64]);
            pair.A.FlushAt(pair.Clock);
            var echoed = false;
            var minRto = (long)Math.Min(pair.A.Statistics.Rto, pair.B.Statistics.Rto);
            while (link.Now - sentAt < 60_000)
            {
                Assert.Null(pair.Step());
                if (!echoed && pair.B.Receive(buffer) == 64)
                {
                    echoed = true;
                    pair.B.Send(buffer.AsSpan(0, 64));
                    pair.B.FlushAt(pair.Clock);
                }

                if (echoed && pair.A.Receive(buffer) == 64)
                {
                    completed++;
                    var took = link.Now - sentAt;
                    if (took >= minRto)
                    {
                        waitedForRto++;
                    }

                    break;
                }

                pair.Advance(1000);
            }
        }

        return new PingPongResult(completed, pair.A.Statistics.TailLossProbes + pair.B.Statistics.TailLossProbes, waitedForRto, link.Now);
    }
}
