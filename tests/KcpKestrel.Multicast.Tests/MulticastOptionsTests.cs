namespace KcpKestrel.Multicast.Tests;

public sealed class MulticastOptionsTests
{
    [Fact]
    public void Defaults_AreValid()
    {
        new MulticastOptions().Validate();
    }

    public static TheoryData<string, Action<MulticastOptions>> OutOfRange() => new()
    {
        { nameof(MulticastOptions.NodeId), o => o.NodeId = 0 },
        { nameof(MulticastOptions.DatagramSize), o => o.DatagramSize = 511 },
        { nameof(MulticastOptions.DatagramSize), o => o.DatagramSize = MulticastOptions.MaxDatagramSize + 1 },
        { nameof(MulticastOptions.HistoryPackets), o => o.HistoryPackets = 15 },
        { nameof(MulticastOptions.HistoryPackets), o => (o.HistoryPackets, o.DatagramSize) = (131072, 16384) }, // 2 GiB pinned
        { nameof(MulticastOptions.PacketsPerSecond), o => o.PacketsPerSecond = -1 },
        { nameof(MulticastOptions.FlushDelay), o => o.FlushDelay = TimeSpan.FromSeconds(2) },
        { nameof(MulticastOptions.HeartbeatInterval), o => o.HeartbeatInterval = TimeSpan.Zero },
        { nameof(MulticastOptions.NakSuppressWindow), o => o.NakSuppressWindow = TimeSpan.FromSeconds(-1) },
        { nameof(MulticastOptions.ReceiveBufferPackets), o => o.ReceiveBufferPackets = (1 << 20) + 1 },
        { nameof(MulticastOptions.MaxPublishers), o => o.MaxPublishers = 0 },
        { nameof(MulticastOptions.ReorderWait), o => o.ReorderWait = TimeSpan.FromSeconds(5) },
        { nameof(MulticastOptions.NakRetry), o => o.NakRetry = TimeSpan.FromMicroseconds(10) },
        { nameof(MulticastOptions.NakRetryMax), o => o.NakRetryMax = TimeSpan.FromMilliseconds(1) },
        { nameof(MulticastOptions.PublisherTimeout), o => o.PublisherTimeout = TimeSpan.FromMilliseconds(1) },
        { nameof(MulticastOptions.MaxMessageSize), o => o.MaxMessageSize = 0 },
        { nameof(MulticastOptions.Join), o => o.Join = (MulticastJoin)7 },
        { nameof(MulticastOptions.OnUnrecoverable), o => o.OnUnrecoverable = (MulticastGapPolicy)7 },
    };

    [Theory]
    [MemberData(nameof(OutOfRange))]
    public void Validate_SettingOutOfRange_ThrowsNamingIt(string name, Action<MulticastOptions> change)
    {
        var options = new MulticastOptions();
        change(options);
        Assert.Equal(name, Assert.Throws<ArgumentOutOfRangeException>(options.Validate).ParamName);
    }
}
