using KcpKestrel.Transport.UserTcp.Tcp;

namespace KcpKestrel.Transport.UserTcp.Tests.Stack;

public sealed class SegmentRateLimiterTests
{
    [Fact]
    public void ASecondsWorth_ThenRefillsWithTime()
    {
        var limiter = new SegmentRateLimiter(1000);
        var taken = 0;
        for (var i = 0; i < 5000; i++)
        {
            taken += limiter.TryTake(100) ? 1 : 0;
        }

        Assert.Equal(1000, taken);
        Assert.False(limiter.TryTake(100));

        // 10 ms later: 10 more.
        taken = 0;
        for (var i = 0; i < 100; i++)
        {
            taken += limiter.TryTake(110) ? 1 : 0;
        }

        Assert.Equal(10, taken);
    }

    [Fact]
    public void Zero_AllowsNothing()
    {
        var limiter = new SegmentRateLimiter(0);
        Assert.False(limiter.TryTake(0));
        Assert.False(limiter.TryTake(100_000));
    }
}
