using KcpKestrel.Shared;
using KcpKestrel.Transport.Kcp.Io.Loops;

namespace KcpKestrel.Transport.Kcp.Tests;

public sealed class TimerWheelTests
{
    [Fact]
    public void Schedule_FiresAtItsDeadline_NotBefore()
    {
        var wheel = new TimerWheel();
        wheel.Advance(100);
        var entry = new Recorder();
        wheel.Schedule(entry, 110);

        wheel.Advance(109);
        Assert.Empty(entry.Fired);
        Assert.Equal(1, wheel.NextTimeout(109));

        wheel.Advance(110);
        Assert.Equal(new[] { 110u }, entry.Fired);
        Assert.False(entry.IsScheduled);
        Assert.Equal(0, wheel.Count);
        Assert.Equal(-1, wheel.NextTimeout(110));
    }

    [Fact]
    public void Schedule_AgainMovesTheEntry_AndRemoveCancelsIt()
    {
        var wheel = new TimerWheel();
        wheel.Advance(0);
        var moved = new Recorder();
        var removed = new Recorder();
        wheel.Schedule(moved, 10);
        wheel.Schedule(moved, 30);
        wheel.Schedule(removed, 20);
        wheel.Remove(removed);
        wheel.Remove(removed);
        Assert.Equal(1, wheel.Count);

        wheel.Advance(25);
        Assert.Empty(moved.Fired);
        wheel.Advance(30);
        Assert.Equal(new[] { 30u }, moved.Fired);
        Assert.Empty(removed.Fired);
    }

    [Fact]
    public void Schedule_InThePast_FiresOnTheNextTick()
    {
        var wheel = new TimerWheel();
        wheel.Advance(500);
        var entry = new Recorder();
        wheel.Schedule(entry, 400);
        wheel.Advance(501);
        Assert.Equal(new[] { 501u }, entry.Fired);
    }

    [Fact]
    public void Advance_AcrossTheWrapOfTheMillisecondClock_FiresInOrder()
    {
        var wheel = new TimerWheel();
        var start = uint.MaxValue - 10;
        wheel.Advance(start);
        var fired = new List<int>();
        var before = new Recorder(() => fired.Add(1));
        var after = new Recorder(() => fired.Add(2));
        wheel.Schedule(after, 5);
        wheel.Schedule(before, uint.MaxValue - 2);

        wheel.Advance(uint.MaxValue);
        Assert.Equal(new[] { 1 }, fired);
        wheel.Advance(10);
        Assert.Equal(new[] { 1, 2 }, fired);
    }

    [Fact]
    public void ManyEntries_InTheSameSlot_AllFire_AndMayRescheduleThemselves()
    {
        var wheel = new TimerWheel();
        wheel.Advance(0);
        var entries = Enumerable.Range(0, 1000).Select(_ => new Recorder()).ToList();
        foreach (var entry in entries)
        {
            wheel.Schedule(entry, 7);
        }

        entries[0].Then = now => wheel.Schedule(entries[0], now + 5);
        wheel.Advance(7);
        Assert.All(entries, e => Assert.Equal(new[] { 7u }, e.Fired));
        Assert.Equal(1, wheel.Count);

        wheel.Advance(12);
        Assert.Equal(new[] { 7u, 12u }, entries[0].Fired);
    }

    [Fact]
    public void FarFutureEntry_BeyondTheWheelsSpan_WaitsForItsDeadline()
    {
        var wheel = new TimerWheel();
        wheel.Advance(0);
        var entry = new Recorder();
        const uint Due = 10_000; // past the wheel's 4,096 slots

        wheel.Schedule(entry, Due);
        for (uint now = 1; now < Due; now += 50)
        {
            wheel.Advance(now);
        }

        wheel.Advance(Due - 1);
        Assert.Empty(entry.Fired);
        Assert.True(entry.IsScheduled);

        wheel.Advance(Due);
        Assert.Equal(new[] { Due }, entry.Fired);
    }

    [Fact]
    public void Advance_AfterAStallLongerThanTheWheel_FiresEverythingDue()
    {
        var wheel = new TimerWheel();
        wheel.Advance(0);
        var entries = Enumerable.Range(1, 20).Select(_ => new Recorder()).ToList();
        for (var i = 0; i < entries.Count; i++)
        {
            wheel.Schedule(entries[i], (uint)(i * 500) + 1);
        }

        wheel.Advance(20_000);
        Assert.All(entries, e => Assert.Equal(new[] { 20_000u }, e.Fired));
        Assert.Equal(0, wheel.Count);
    }

    private sealed class Recorder(Action? onFire = null) : TimerWheelEntry
    {
        public List<uint> Fired { get; } = [];

        public Action<uint>? Then { get; set; }

        public override void OnTimer(uint now)
        {
            Fired.Add(now);
            onFire?.Invoke();
            var then = Then;
            Then = null;
            then?.Invoke(now);
        }
    }
}
