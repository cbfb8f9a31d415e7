using System.Net;
using KcpKestrel.Cli;

namespace KcpKestrel.Cli.Tests;

public sealed class HostPortTests
{
    [Theory]
    [InlineData("127.0.0.1:4000", "127.0.0.1", 4000)]
    [InlineData("localhost:0", "127.0.0.1", 0)]
    [InlineData("[::1]:29900", "::1", 29900)]
    public void TryParse_Accepts(string text, string address, int port)
    {
        Assert.True(HostPort.TryParse(text, out var endPoint, out _));
        Assert.Equal(new IPEndPoint(IPAddress.Parse(address), port), endPoint);
    }

    [Theory]
    [InlineData("127.0.0.1", "no port")]
    [InlineData("127.0.0.1:99999", "bad port")]
    [InlineData("example.com:80", "not an IP address")]
    [InlineData("", "expected HOST:PORT")]
    public void TryParse_ExplainsWhatIsWrong(string text, string expected)
    {
        Assert.False(HostPort.TryParse(text, out _, out var error));
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }
}
