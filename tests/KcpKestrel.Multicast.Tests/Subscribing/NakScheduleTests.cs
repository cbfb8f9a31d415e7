using KcpKestrel.Multicast.Subscribing;

namespace KcpKestrel.Multicast.Tests.Subscribing;

public sealed class NakScheduleTests
{
    private readonly NakSchedule _naks = new(capacity: 16, firstInterval: 5000, maxInterval: 200_000);

    [Fact]
    public void NakedSequence_IsNotDueBeforeItsRetryInterval()
    {
        Assert.True(_naks.IsDue(3, 0));
        Assert.Equal(5000, _naks.Sent(3, 0));
        Assert.False(_naks.IsDue(3, 4999));
        Assert.True(_naks.IsDue(3, 5000));

        // Another sequence in the ring is unaffected.
        Assert.True(_naks.IsDue(4, 1));
    }

    [Fact]
    public void SlowRepair_StretchesTheRetryIntervalPastTheRepairTime()
    {
        _naks.Sent(1, 0);
        _naks.Repaired(1, 10_000);

        Assert.Equal(10_000, _naks.RepairTime);
        Assert.Equal(20_000 + 15_000, _naks.Sent(2, 20_000));
        Assert.True(_naks.IsDue(1, 20_000));
    }

    [Fact]
    public void RepairOfARetriedSequence_IsNoSample()
    {
        _naks.Sent(1, 0);
        _naks.Sent(1, 5000);
        _naks.Repaired(1, 60_000);

        Assert.Equal(0, _naks.RepairTime);
    }

    [Fact]
    public void Retries_WaitTheBaseIntervalThreeTimes_ThenDoubleUpToTheCap()
    {
        var due = new List<long>();
        long now = 0;
        for (var i = 0; i < 10; i++)
        {
            now = _naks.Sent(7, now);
            due.Add(now);
        }

        Assert.Equal([5000, 10_000, 15_000, 25_000, 45_000, 85_000, 165_000, 325_000, 525_000, 725_000], due);
    }
}
