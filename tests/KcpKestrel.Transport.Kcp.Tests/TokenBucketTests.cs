using KcpKestrel.Shared;

namespace KcpKestrel.Transport.Kcp.Tests;

public sealed class TokenBucketTests
{
    [Fact]
    public void RefillMs_EarnsTheRate_UpToTheCapacity()
    {
        var bucket = new TokenBucket(perSecond: 1000, capacity: 100);
        bucket.RefillMs(0);
        Assert.True(bucket.TryTake(100));
        Assert.False(bucket.TryTake(1));

        bucket.RefillMs(40);
        Assert.Equal(40, bucket.Tokens, 6);

        bucket.RefillMs(10_000);
        Assert.Equal(100, bucket.Tokens);
    }

    [Fact]
    public void RefillMs_AcrossTheWrap_EarnsTheTimeBetween()
    {
        var bucket = new TokenBucket(perSecond: 1000, capacity: 1000);
        bucket.RefillMs(uint.MaxValue - 9);
        bucket.Take(1000);
        bucket.RefillMs(10);
        Assert.Equal(20, bucket.Tokens, 6);
    }

    [Fact]
    public void Refill_WhenTheClockGoesBackwards_EarnsNothing()
    {
        var bucket = new TokenBucket(perSecond: 1000, capacity: 1000);
        bucket.RefillMs(500);
        bucket.Take(1000);
        bucket.RefillMs(400);
        Assert.Equal(0, bucket.Tokens);

        // The clock restarts from where it went back to.
        bucket.RefillMs(410);
        Assert.Equal(10, bucket.Tokens, 6);

        var ticks = new TokenBucket(perSecond: 10, capacity: 10, ticksPerSecond: 10_000_000);
        ticks.Start(1_000_000_000);
        ticks.Take(10);
        ticks.Refill(999_000_000);
        Assert.Equal(0, ticks.Tokens);
    }

    [Fact]
    public void Refill_WithTimestampTicks_EarnsBySeconds()
    {
        var bucket = new TokenBucket(perSecond: 1_000, capacity: 5_000, ticksPerSecond: 10_000_000);
        bucket.Start(123);
        bucket.Take(10_000);
        bucket.Refill(123 + 25_000_000);
        Assert.Equal(-2_500, bucket.Tokens, 6);
        Assert.Equal(2.5, bucket.SecondsUntil(0), 6);
    }

    [Fact]
    public void ZeroRate_NeverRefills_AndWaitsForever()
    {
        var bucket = new TokenBucket(perSecond: 0, capacity: 2);
        bucket.RefillMs(0);
        Assert.True(bucket.TryTake(2));
        bucket.RefillMs(1_000_000);
        Assert.False(bucket.TryTake(1));
        Assert.Equal(double.PositiveInfinity, bucket.SecondsUntil(1));
    }

    [Fact]
    public void Take_GoesIntoDebt_AndTheDebtIsRepaidFirst()
    {
        var bucket = new TokenBucket(perSecond: 100, capacity: 50);
        bucket.RefillMs(0);
        bucket.Take(250);
        Assert.Equal(-200, bucket.Tokens);
        Assert.Equal(2, bucket.SecondsUntil(0), 6);
        bucket.RefillMs(1000);
        Assert.False(bucket.TryTake(1));
        bucket.RefillMs(3000);
        Assert.Equal(50, bucket.Tokens);
    }
}
