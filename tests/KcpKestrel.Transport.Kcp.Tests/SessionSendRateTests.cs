using KcpKestrel.Transport.Kcp.Sessions;
using KcpKestrel.Transport.Kcp.Tests.InMemory;

namespace KcpKestrel.Transport.Kcp.Tests;

public sealed class SessionSendRateTests
{
    [Theory]
    [InlineData(50_000)]
    [InlineData(200_000)]
    [InlineData(1_000_000)]
    public void SendRateLimit_BytesIntoKcp_StayWithinCapPlusBurst(long rate)
    {
        var pair = new SessionPair();
        pair.Client.Session.SendRateLimit = rate;
        SessionCloseStateTests.Write(pair.Client.Connection.Transport.Output, 900_000);
        var burst = Math.Max(rate / 10.0, SendRateLimiter.MinBurst);

        for (var ms = 250; ms <= 2_000; ms += 250)
        {
            pair.Advance(250);
            var sent = pair.Client.Session.GetStatistics().BytesSent;
            var cap = (rate * ms / 1000.0) + burst;
            Assert.True(sent <= cap, $"{sent} bytes into KCP after {ms} ms, more than the {cap} the cap allows");

            // Paced, not stalled: at least what the rate allows less a refill's wait.
            var floor = Math.Min(900_000, (rate * (ms - SendRateLimiter.MaxWaitMs) / 1000.0) - SendRateLimiter.UsefulWrite);
            Assert.True(sent >= floor, $"{sent} bytes into KCP after {ms} ms, less than the {floor} expected");
        }
    }

    [Fact]
    public void SendRateLimiter_WithoutACap_AllowsEverything_AndWaitsOneMillisecond()
    {
        var limiter = new SendRateLimiter();
        Assert.Equal(int.MaxValue, limiter.Allowance(0));
        Assert.Equal(1u, limiter.RefillMs());

        limiter.Limit = -5;
        Assert.Equal(0, limiter.Limit);
    }

    [Fact]
    public void SendRateLimiter_StartsWithABurst_ThenRefillsAtTheRate()
    {
        var limiter = new SendRateLimiter { Limit = 1_000_000 };
        Assert.Equal(100_000, limiter.Allowance(uint.MaxValue - 5));
        limiter.Charge(100_000);
        Assert.Equal(0, limiter.Allowance(uint.MaxValue - 5));
        Assert.Equal(5u, limiter.RefillMs());

        // Across the wrap of the millisecond clock: 10 ms earn 10,000 bytes.
        Assert.Equal(10_000, limiter.Allowance(4));
    }
}
