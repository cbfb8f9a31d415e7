namespace KcpKestrel.Multicast.Tests.Harness;

/// <summary>A wall clock that moves only when told, for the cipher's time-based nonces.</summary>
internal sealed class ManualClock : TimeProvider
{
    private DateTimeOffset _now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}
