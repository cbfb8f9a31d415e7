using KcpKestrel.Transport.Kcp.Io.Loops;

namespace KcpKestrel.Transport.Kcp.Tests;

public sealed class LoopSpinTests
{
    [Fact]
    public void ShouldSpin_ZeroWindow_NeverSpins()
    {
        var spin = new LoopSpin(0);
        Assert.False(spin.ShouldSpin());
    }

    [Fact]
    public void ShouldSpin_EveryWindowCatchesSomething_SpinsBeforeEverySleep()
    {
        var spin = new LoopSpin(100);
        for (var i = 0; i < 100; i++)
        {
            Assert.True(spin.ShouldSpin());
            spin.OnSpinEnded(caught: true);
        }

        Assert.Equal(0, spin.Backoff);
    }

    [Fact]
    public void ShouldSpin_WindowsPassEmpty_SpinsExponentiallyRarerUpToTheCap()
    {
        var spin = new LoopSpin(100);
        var spins = 0;
        const int Sleeps = 100_000;
        for (var i = 0; i < Sleeps; i++)
        {
            if (spin.ShouldSpin())
            {
                spins++;
                spin.OnSpinEnded(caught: false);
            }
        }

        Assert.Equal(LoopSpin.MaxBackoff, spin.Backoff);

        // Idle: one spin per 2^MaxBackoff sleeps once backed off, plus the MaxBackoff spins on the way there.
        Assert.InRange(spins, Sleeps >> LoopSpin.MaxBackoff, (Sleeps >> LoopSpin.MaxBackoff) + LoopSpin.MaxBackoff + 1);
    }

    [Fact]
    public void OnSpinEnded_CatchAfterBackoff_SpinsAgainAtOnceWithHalfTheBackoff()
    {
        var spin = new LoopSpin(100);
        for (var i = 0; i < 3; i++)
        {
            while (!spin.ShouldSpin())
            {
            }

            spin.OnSpinEnded(caught: false);
        }

        Assert.Equal(3, spin.Backoff);
        while (!spin.ShouldSpin())
        {
        }

        spin.OnSpinEnded(caught: true);

        Assert.Equal(2, spin.Backoff);
        Assert.True(spin.ShouldSpin());
    }
}
