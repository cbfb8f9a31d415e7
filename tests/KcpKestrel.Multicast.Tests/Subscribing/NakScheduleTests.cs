using KcpKestrel.Multicast.Subscribing;

namespace KcpKestrel.Multicast.Tests.Subscribing;

public sealed class NakScheduleTests
{
    private const long First = 5000;
    private const long Max = 200_000;
    private readonly NakSchedule _naks = new(capacity: 16);

    [Fact]
    public void NakedSequence_IsNotDueBeforeItsRetryInterval()
    {
        Assert.True(_naks.IsDue(3, 0));
        Assert.Equal(5000, _naks.Sent(3, 0, First, Max));
        Assert.False(_naks.IsDue(3, 4999));
        Assert.True(_naks.IsDue(3, 5000));

        // Another sequence, even on the same ring slot, is unaffected.
        Assert.True(_naks.IsDue(4, 1));
        Assert.True(_naks.IsDue(19, 1));
    }

    [Fact]
    public void Retries_WaitTheFirstIntervalThreeTimes_ThenDoubleUpToTheCap()
    {
        var due = new List<long>();
        long now = 0;
        for (var i = 0; i < 10; i++)
        {
            now = _naks.Sent(7, now, First, Max);
            due.Add(now);
        }

        Assert.Equal([5000, 10_000, 15_000, 25_000, 45_000, 85_000, 165_000, 325_000, 525_000, 725_000], due);
    }
}
