namespace KcpKestrel.Transport.UserTcp.Tests.Transport;

public sealed class UserTcpOptionsTests
{
    [Fact]
    public void DefaultsAreValid()
    {
        var options = new UserTcpOptions();

        Assert.True(options.TryValidate(out var error), error);
        Assert.Equal(1460, options.EffectiveMss(isIPv6: false));
        Assert.Equal(1440, options.EffectiveMss(isIPv6: true));
    }

    [Theory]
    [InlineData(nameof(UserTcpOptions.Mtu), "1000", "1280 to 65535 bytes")]
    [InlineData(nameof(UserTcpOptions.Mss), "10", "0 (derived from Mtu) or 88 to 65495 bytes")]
    [InlineData(nameof(UserTcpOptions.ReceiveBufferSize), "100", "4 KiB to 64 MiB")]
    [InlineData(nameof(UserTcpOptions.DelayedAck), "501", "0 to 500 ms")]
    [InlineData(nameof(UserTcpOptions.KeepAliveProbes), "0", "1 to 127")]
    [InlineData(nameof(UserTcpOptions.QueueCount), "65", "1 to 64")]
    [InlineData(nameof(UserTcpOptions.SynBacklog), "0", "1 to 1,000,000")]
    [InlineData(nameof(UserTcpOptions.RateLimitBytesPerSecond), "-1", "0 (none) or a positive byte rate")]
    public void AnOutOfRangeSettingIsNamedWithWhatItAccepts(string name, string value, string accepted)
    {
        var options = new UserTcpOptions();
        var property = typeof(UserTcpOptions).GetProperty(name)!;
        object parsed = property.PropertyType == typeof(TimeSpan)
            ? TimeSpan.FromMilliseconds(double.Parse(value, System.Globalization.CultureInfo.InvariantCulture))
            : Convert.ChangeType(value, property.PropertyType, System.Globalization.CultureInfo.InvariantCulture);
        property.SetValue(options, parsed);

        Assert.False(options.TryValidate(out var error));
        Assert.Contains(name, error, StringComparison.Ordinal);
        Assert.Contains(accepted, error, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(options.Validate);
    }

    [Fact]
    public void SubMillisecondAndNegativeDurationsAreRejectedNotRounded()
    {
        Assert.False(new UserTcpOptions { MinRto = TimeSpan.FromTicks(10) }.TryValidate(out _));
        Assert.False(new UserTcpOptions { TimeWait = TimeSpan.FromSeconds(-1) }.TryValidate(out _));
    }

    [Fact]
    public void RulesBetweenSettingsAreChecked()
    {
        Assert.False(new UserTcpOptions { MinRto = TimeSpan.FromSeconds(2), MaxRto = TimeSpan.FromSeconds(1) }.TryValidate(out var rto));
        Assert.Contains("MaxRto", rto, StringComparison.Ordinal);
        Assert.False(new UserTcpOptions { Mtu = 1280, Mss = 1460 }.TryValidate(out var mss));
        Assert.Contains("Mss = 1460", mss, StringComparison.Ordinal);
    }

    [Fact]
    public void EverySettingIsInTheTable()
    {
        // Booleans cannot be out of range, so they need no entry.
        var listed = UserTcpSettings.All.Select(s => s.Name).ToHashSet();
        foreach (var property in typeof(UserTcpOptions).GetProperties().Where(p => p.PropertyType != typeof(bool)))
        {
            Assert.Contains(property.Name, listed);
        }
    }

    [Fact]
    public void MapsToTheConnectionAndStackOptions()
    {
        var options = new UserTcpOptions
        {
            Mtu = 9000,
            ReceiveBufferSize = 1 << 20,
            SendBufferSize = 512 * 1024,
            DelayedAck = TimeSpan.Zero,
            NoDelay = false,
            KeepAliveIdle = TimeSpan.FromSeconds(30),
            KeepAliveInterval = TimeSpan.FromSeconds(5),
            KeepAliveProbes = 3,
            MinRto = TimeSpan.FromMilliseconds(50),
            MaxRto = TimeSpan.FromSeconds(10),
            TimeWait = TimeSpan.FromSeconds(2),
            RateLimitBytesPerSecond = 1_000_000,
            Sack = false,
            SynBacklog = 77,
            MaxConnections = 1234,
            SynCookies = false,
        };

        var stack = Io.UserTcpLoopStack.ToStackOptions(options, isIPv6: false);
        var connection = stack.Connection;

        Assert.Equal(8960, connection.Mss);
        Assert.Equal(1 << 20, connection.ReceiveBufferSize);
        Assert.Equal(512 * 1024, connection.SendBufferSize);
        Assert.Equal(0, connection.DelayedAckMs);
        Assert.False(connection.NoDelay);
        Assert.Equal(30_000, connection.KeepAliveIdleMs);
        Assert.Equal(5_000, connection.KeepAliveIntervalMs);
        Assert.Equal(3, connection.KeepAliveProbes);
        Assert.Equal(50, connection.MinRtoMs);
        Assert.Equal(10_000, connection.MaxRtoMs);
        Assert.Equal(2_000, connection.TimeWaitMs);
        Assert.Equal(1_000_000, connection.RateLimitBytesPerSecond);
        Assert.False(connection.Sack);
        Assert.Equal(77, stack.SynBacklog);
        Assert.Equal(1234, stack.MaxConnections);
        Assert.Equal(KcpKestrel.Transport.UserTcp.Tcp.SynCookieMode.Never, stack.SynCookies);
    }
}
