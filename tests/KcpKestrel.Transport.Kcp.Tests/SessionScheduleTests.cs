using KcpKestrel.Transport.Kcp.Sessions;

namespace KcpKestrel.Transport.Kcp.Tests;

public sealed class SessionScheduleTests
{
    [Fact]
    public void NextDue_IdleSession_WakesAtTheIdleDeadlineButAtMostASecondAway()
    {
        Assert.Equal(1_250u, SessionSchedule.NextDue(1_000, rateRefillMs: null, kcpDue: null, idleLeftMs: 250, unprovenDeadline: null));
        Assert.Equal(1_000u + SessionSchedule.MaxIdleWakeMs, SessionSchedule.NextDue(1_000, null, null, idleLeftMs: 59_000, null));
        Assert.Equal(1_001u, SessionSchedule.NextDue(1_000, null, null, idleLeftMs: 0, null));
    }

    [Fact]
    public void NextDue_BusySession_FollowsKcp_UnlessAnUnprovenPeerIsDueToBeDroppedFirst()
    {
        Assert.Equal(1_040u, SessionSchedule.NextDue(1_000, null, kcpDue: 1_040, idleLeftMs: 5_000, unprovenDeadline: null));
        Assert.Equal(1_040u, SessionSchedule.NextDue(1_000, null, kcpDue: 1_040, 5_000, unprovenDeadline: 9_000));
        Assert.Equal(1_020u, SessionSchedule.NextDue(1_000, null, kcpDue: 1_040, 5_000, unprovenDeadline: 1_020));
    }

    [Fact]
    public void NextDue_RateBlocked_WakesWhenTheCapRefills_OrEarlierForKcp()
    {
        Assert.Equal(1_100u, SessionSchedule.NextDue(1_000, rateRefillMs: 100, kcpDue: null, 5_000, null));
        Assert.Equal(1_030u, SessionSchedule.NextDue(1_000, rateRefillMs: 100, kcpDue: 1_030, 5_000, null));
        Assert.Equal(1_100u, SessionSchedule.NextDue(1_000, rateRefillMs: 100, kcpDue: 1_300, 5_000, null));
    }

    [Fact]
    public void NextDue_ClockWrap_ComparesAcrossIt()
    {
        const uint nearWrap = uint.MaxValue - 10;
        Assert.Equal(5u, SessionSchedule.NextDue(nearWrap, null, kcpDue: 5, 5_000, unprovenDeadline: 100));
        Assert.Equal(9u, SessionSchedule.NextDue(nearWrap, rateRefillMs: 20, kcpDue: 100, 5_000, null));
    }
}
