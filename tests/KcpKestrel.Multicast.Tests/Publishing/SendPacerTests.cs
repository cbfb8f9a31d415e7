using KcpKestrel.Multicast.Publishing;

namespace KcpKestrel.Multicast.Tests.Publishing;

/// <summary>The congestion response: burst NAKs lower the rate, random loss does not, it recovers, the ceiling holds.</summary>
public sealed class SendPacerTests
{
    private const long Step = 100; // µs between sends: 10,000 packets per second

    [Fact]
    public void BurstNak_AfterSteadySending_CutsTheRateToSevenTenthsOfTheMeasuredRate()
    {
        var pacer = new SendPacer(ceiling: 0);
        var (now, next) = Send(pacer, from: 0, until: 30_000, sequence: 1);

        pacer.OnNak(first: next - 20, count: 8, next, now);

        Assert.True(pacer.Active);
        Assert.InRange(pacer.Rate, 0.69 * 10_000, 0.71 * 10_000);
        Assert.Equal(1, pacer.Cuts);
    }

    [Fact]
    public void BurstNaks_KeepComing_CutAgainOnlyForPacketsSentAfterTheLastCut()
    {
        var pacer = new SendPacer(ceiling: 0);
        var (now, next) = Send(pacer, from: 0, until: 30_000, sequence: 1);
        pacer.OnNak(next - 100, 8, next, now);
        var cutAt = next;

        // More of the burst that overflowed the queue before the cut: no second cut.
        pacer.OnNak(next - 50, 8, next, now + 1000);
        Assert.Equal(1, pacer.Cuts);

        // A burst of packets sent after the cut: the rate is still too high.
        (now, next) = Send(pacer, now + 1000, now + 3000, next);
        pacer.OnNak(cutAt + 5, 8, next, now);
        Assert.Equal(2, pacer.Cuts);
        Assert.InRange(pacer.Rate, 0.69 * 0.69 * 10_000, 0.71 * 0.71 * 10_000);
    }

    [Fact]
    public void RandomLoss_FivePercentIsolatedNaks_DoesNotLowerTheRate()
    {
        var pacer = new SendPacer(ceiling: 0);
        var random = new Random(7);
        ulong sequence = 1;
        ulong runFirst = 0;
        uint runLength = 0;
        for (var now = 0L; now < 2_000_000; now += Step)
        {
            pacer.Refill(now);
            pacer.OnSend(now);
            if (random.NextDouble() < 0.05)
            {
                runFirst = runLength == 0 ? sequence : runFirst;
                runLength++;
            }
            else if (runLength > 0)
            {
                // The subscriber NAKs each missing run once the packet after it arrives.
                pacer.OnNak(runFirst, runLength, sequence + 1, now);
                runLength = 0;
            }

            sequence++;
        }

        Assert.False(pacer.Active);
        Assert.Equal(0, pacer.Cuts);
    }

    [Fact]
    public void Rate_AfterCongestionEnds_RisesBackToTheCeilingAndStepsAside()
    {
        var pacer = new SendPacer(ceiling: 10_000);
        var (now, next) = Send(pacer, from: 0, until: 30_000, sequence: 1);
        pacer.OnNak(next - 20, 8, next, now);
        var cut = pacer.Rate;

        // An offer loop held back by the pacer, no more NAKs.
        var rose = false;
        for (var end = now + 2_000_000; now < end && pacer.Active; now += 10)
        {
            pacer.Refill(now);
            if (pacer.HasToken)
            {
                pacer.OnSend(now);
            }
            else
            {
                pacer.Waited();
            }

            rose |= pacer.Rate > cut;
            Assert.True(pacer.Rate <= 10_000);
        }

        Assert.True(rose);
        Assert.False(pacer.Active);
    }

    [Fact]
    public void Rate_WhilePacingAnIdlePublisher_DoesNotRise()
    {
        // Raising is earned by being the limit: an idle publisher keeps the rate it was cut to.
        var pacer = new SendPacer(ceiling: 0);
        var (now, next) = Send(pacer, from: 0, until: 30_000, sequence: 1);
        pacer.OnNak(next - 20, 8, next, now);
        var cut = pacer.Rate;

        for (var end = now + 1_000_000; now < end; now += 1000)
        {
            pacer.Refill(now);
        }

        Assert.Equal(cut, pacer.Rate);
    }

    [Fact]
    public void Cut_WithACeiling_NeverAllowsMoreThanTheCeiling()
    {
        // Measured far above the ceiling (a burst the user's bucket allowed): the cut still stays under it.
        var pacer = new SendPacer(ceiling: 1000);
        var (now, next) = Send(pacer, from: 0, until: 30_000, sequence: 1);
        pacer.OnNak(next - 20, 8, next, now);

        Assert.True(pacer.Rate <= 1000);
    }

    [Fact]
    public void Pacer_BeforeAnyCongestion_IsInactiveAndAlwaysHasAToken()
    {
        var pacer = new SendPacer(ceiling: 0);
        Send(pacer, from: 0, until: 1_000_000, sequence: 1);

        Assert.False(pacer.Active);
        Assert.True(pacer.HasToken);
        Assert.Equal(0, pacer.Rate);
    }

    private static (long Now, ulong Next) Send(SendPacer pacer, long from, long until, ulong sequence)
    {
        var now = from;
        for (; now < until; now += Step)
        {
            pacer.Refill(now);
            pacer.OnSend(now);
            sequence++;
        }

        return (now, sequence);
    }
}
