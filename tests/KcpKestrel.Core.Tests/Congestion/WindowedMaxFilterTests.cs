using KcpKestrel.Core.Congestion;

namespace KcpKestrel.Core.Tests.Congestion;

public sealed class WindowedMaxFilterTests
{
    [Fact]
    public void Update_LargerSample_IsTheMaximumAtOnce()
    {
        var filter = new WindowedMaxFilter(10);
        filter.Update(1, 5);
        filter.Update(2, 9);
        filter.Update(3, 7);
        Assert.Equal(9, filter.Value);
    }

    [Fact]
    public void Update_MaximumOlderThanTheWindow_ExpiresToTheBestYoungerSample()
    {
        var filter = new WindowedMaxFilter(10);
        filter.Update(0, 100);
        for (ulong round = 1; round <= 20; round++)
        {
            filter.Update(round, round == 8 ? 60 : 50);
        }

        // 100 (round 0) and then 60 (round 8) have aged out by round 20: only samples of 50 remain.
        Assert.Equal(50, filter.Value);
    }

    [Fact]
    public void Update_WithinTheWindow_KeepsTheMaximum()
    {
        var filter = new WindowedMaxFilter(10);
        filter.Update(0, 100);
        for (ulong round = 1; round <= 10; round++)
        {
            filter.Update(round, 50);
        }

        Assert.Equal(100, filter.Value);
    }
}
