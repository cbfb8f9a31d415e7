using KcpKestrel.Transport.UserTcp.Tcp;

namespace KcpKestrel.Transport.UserTcp.Tests.Stack;

public sealed class EphemeralPortsTests
{
    private static EphemeralPorts Create(ushort min = 32768, ushort max = 60999) => new(1, 2, min, max);

    [Fact]
    public void OneSearch_VisitsEveryPortOfTheRangeOnce()
    {
        var ports = Create(40000, 40999);
        var offset = ports.Offset(1, 2, 80, false);
        var seen = new HashSet<ushort>();
        for (var i = 0; i < ports.Count; i++)
        {
            var port = ports.NextCandidate(offset);
            Assert.InRange(port, (ushort)40000, (ushort)40999);
            Assert.True(seen.Add(port));
        }

        Assert.Equal(1000, seen.Count);
    }

    [Fact]
    public void Destinations_StartAtUnrelatedPorts()
    {
        var ports = Create();
        Assert.NotEqual(ports.Offset(1, 2, 80, false), ports.Offset(1, 2, 443, false));
        Assert.NotEqual(ports.Offset(1, 2, 80, false), ports.Offset(1, 3, 80, false));
    }

    [Fact]
    public void AnEmptyRange_IsRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Create(5000, 4999));
        Assert.Throws<ArgumentOutOfRangeException>(() => Create(0, 10));
    }
}
