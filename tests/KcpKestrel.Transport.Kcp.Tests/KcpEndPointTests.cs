using System.Net;
using KcpKestrel.Transport.Kcp;

namespace KcpKestrel.Transport.Kcp.Tests;

public sealed class KcpEndPointTests
{
    [Theory]
    [InlineData("127.0.0.1:4000", "127.0.0.1", 4000)]
    [InlineData("[::1]:29900", "::1", 29900)]
    public void Parse_ReadsAddressAndPort(string text, string address, int port)
    {
        var endPoint = KcpEndPoint.Parse(text);

        Assert.Equal(IPAddress.Parse(address), endPoint.IPEndPoint.Address);
        Assert.Equal(port, endPoint.IPEndPoint.Port);
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("::1")]
    [InlineData("localhost:80")]
    [InlineData("127.0.0.1:70000")]
    public void Parse_RejectsWhatIsNotAnAddressWithPort(string text)
    {
        var error = Assert.Throws<FormatException>(() => KcpEndPoint.Parse(text));
        Assert.Contains(text, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void IsNotAnIPEndPoint_SoKestrelsSocketsTransportLeavesItAlone()
    {
        EndPoint endPoint = new KcpEndPoint(IPAddress.Loopback, 1);
        Assert.IsNotType<IPEndPoint>(endPoint, exactMatch: false);
    }
}
