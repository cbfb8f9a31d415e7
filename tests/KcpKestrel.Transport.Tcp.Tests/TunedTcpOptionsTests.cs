using KcpKestrel.Transport.Tcp;

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
