using KcpKestrel.Core.Congestion;

namespace KcpKestrel.Core.Tests.Congestion;

/// <summary>
/// The rate-based controller over a simulated bottleneck in virtual time (deterministic: seeded loss, the
/// clock injected). No wall-clock timing: what is asserted is the model's state and the simulated link's figures.
/// </summary>
public sealed class BbrLinkTests
{
    // 1000 bytes per virtual ms through the bottleneck, 10 ms each way: a BDP of ~21 KB (~15 segments),
    // under a 200 KB drop-tail queue (200 ms of it) that a window-at-once sender fills.
    private const double Rate = 1000;
    private const int DelayMs = 10;
    private const int QueueBytes = 200_000;

    private static BulkTransfer Transfer(bool rateControl, double loss = 0, int receiveWindow = 1024) =>
        new(new BottleneckLink(1, Rate, DelayMs, QueueBytes, loss), rateControl, receiveWindow);

    [Fact]
    public void Bbr_BottleneckLink_ConvergesToTheBottleneckRate()
    {
        using var t = Transfer(rateControl: true);

        // 1 s is ~45 round trips: startup, drain and some probing cycles.
        t.Run(1000);
        var bbr = t.A.RateControl!;
        Assert.Equal(BbrMode.ProbeBandwidth, bbr.Mode);
        Assert.InRange(bbr.Bandwidth, 0.95 * Rate, 1.1 * Rate);
        Assert.InRange(bbr.MinRtt!.Value, 2u * DelayMs, (2u * DelayMs) + 3);

        // And it uses the bottleneck: over the next 2 s nearly every byte it can carry is payload delivered.
        var before = t.Received;
        t.Run(2000);
        Assert.True(t.Received - before >= 0.9 * Rate * 2000, $"delivered {t.Received - before} bytes in 2000 ms");
    }

    [Fact]
    public void Bbr_BottleneckLink_KeepsTheQueueShortAndDropsNothing()
    {
        using var bbr = Transfer(rateControl: true);
        using var kcp = Transfer(rateControl: false);
        foreach (var t in new[] { bbr, kcp })
        {
            t.Run(1000);
            t.Link.ResetFigures();
            t.Run(3000);
        }

        var bbrQueue = bbr.Link.SumQueueDelay / bbr.Link.Forwarded;
        var kcpQueue = kcp.Link.SumQueueDelay / kcp.Link.Forwarded;

        // At most about one round trip of queue (BBR's window is twice the BDP), where kcp-go's window fills the buffer.
        Assert.Equal(0, bbr.Link.QueueDrops);
        Assert.True(bbrQueue <= 2 * DelayMs * 1.5, $"average queueing delay {bbrQueue:F1} ms");
        Assert.True(kcpQueue > 3 * bbrQueue, $"kcp {kcpQueue:F1} ms against bbr {bbrQueue:F1} ms");
        Assert.True(kcp.Link.QueueDrops > 0);
        Assert.True(bbr.Received > kcp.Received);
    }

    [Theory]
    [InlineData(0.01)]
    [InlineData(0.05)]
    public void Bbr_RandomLoss_KeepsMostOfTheRate(double loss)
    {
        using var t = Transfer(rateControl: true, loss);
        t.Run(1000);
        var before = t.Received;
        t.Run(3000);

        // Loss is not congestion: the estimate holds and the link stays nearly full (less what is lost and resent).
        Assert.InRange(t.A.RateControl!.Bandwidth, 0.9 * Rate, 1.2 * Rate);
        Assert.True(t.Received - before >= (0.85 - loss) * Rate * 3000, $"delivered {t.Received - before} bytes in 3000 ms at loss {loss}");
    }

    [Fact]
    public void Bbr_SmallPeerWindow_InFlightNeverExceedsIt()
    {
        using var t = Transfer(rateControl: true, receiveWindow: 8);

        // Until the peer's first segment tells its window, KCP assumes 32 (as kcp-go): measure after that.
        t.Run(100);
        t.MaxInFlightSegments = 0;
        t.Run(2000);

        Assert.True(t.Received > 0);
        Assert.InRange(t.MaxInFlightSegments, 1u, 8u);
    }

    [Fact]
    public void Bbr_NothingToSend_DoesNotAskForTicks()
    {
        using var t = Transfer(rateControl: true);
        t.Run(200);

        // With nothing queued and everything acknowledged, Check asks for no paced tick: an idle session sleeps.
        var a = t.A;
        var now = (uint)t.Link.Now;
        var idle = new BulkTransfer(new BottleneckLink(2, Rate, DelayMs, QueueBytes, 0), rateControl: true);
        using (idle)
        {
            idle.A.Update(now);
            Assert.False(idle.A.RateControl!.PacingDeferred);
            Assert.Equal(now + (uint)idle.A.Interval, idle.A.Check(now));
        }

        Assert.True(a.RateControl!.Delivered > 0);
    }
}
