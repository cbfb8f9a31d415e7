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
}
