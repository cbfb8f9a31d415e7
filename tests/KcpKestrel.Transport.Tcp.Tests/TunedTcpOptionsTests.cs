using KcpKestrel.Transport.Tcp;
using Microsoft.Extensions.Configuration;

namespace KcpKestrel.Transport.Tcp.Tests;

public sealed class TunedTcpOptionsTests
{
    [Fact]
    public void Defaults_AreValid() => new TunedTcpOptions().Validate();

    [Fact]
    public void Validate_NamesTheBadOption()
    {
        var options = new TunedTcpOptions { AcceptLoops = 0 };
        var error = Assert.Throws<ArgumentOutOfRangeException>(options.Validate);
        Assert.Equal(nameof(TunedTcpOptions.AcceptLoops), error.ParamName);
    }

    [Theory]
    [InlineData(nameof(TunedTcpOptions.SqPollIdleMilliseconds), 0)]
    [InlineData(nameof(TunedTcpOptions.SqPollIdleMilliseconds), TunedTcpOptions.MaxSqPollIdleMilliseconds + 1)]
    [InlineData(nameof(TunedTcpOptions.Architecture), 7)]
    [InlineData(nameof(TunedTcpOptions.AcceptLoops), TunedTcpOptions.MaxAcceptLoops + 1)]
    public void Validate_IoUringOptionOutOfRange_NamesIt(string name, int value)
    {
        var options = new TunedTcpOptions();
        var property = typeof(TunedTcpOptions).GetProperty(name)!;
        property.SetValue(options, property.PropertyType.IsEnum ? Enum.ToObject(property.PropertyType, value) : value);
        var error = Assert.Throws<ArgumentOutOfRangeException>(options.Validate);
        Assert.Equal(name, error.ParamName);
    }

    [Fact]
    public void Configuration_IoUringOptions_BindByName()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Engine"] = "IoUring",
            ["Architecture"] = "Reactor",
            ["SqPoll"] = "true",
            ["SqPollIdleMilliseconds"] = "200",
            ["CpuAffinity"] = "true",
        }).Build();
        var options = new TunedTcpOptions();
        configuration.Bind(options);
        options.Validate();
        Assert.Equal((TcpEngine.IoUring, IoUringArchitecture.Reactor), (options.Engine, options.Architecture));
        Assert.Equal((true, 200, true), (options.SqPoll, options.SqPollIdleMilliseconds, options.CpuAffinity));
    }

    [Fact]
    public void Defaults_IoUringOptions_AreShardingWithoutSqPollOrAffinity()
    {
        var options = new TunedTcpOptions();
        Assert.Equal(IoUringArchitecture.SocketSharding, options.Architecture);
        Assert.Equal((false, 50, false), (options.SqPoll, options.SqPollIdleMilliseconds, options.CpuAffinity));
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(1)]
    [InlineData(4095)]
    public void Validate_ZeroCopySendThresholdBelowAPage_IsRefused(int threshold)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(new TunedTcpOptions { ZeroCopySendThreshold = threshold }.Validate);
        Assert.Equal(nameof(TunedTcpOptions.ZeroCopySendThreshold), error.ParamName);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(4096)]
    [InlineData(1 << 20)]
    public void Validate_ZeroCopySendThresholdOffOrAPageAndUp_IsAccepted(int threshold) =>
        new TunedTcpOptions { ZeroCopySendThreshold = threshold }.Validate();
}
