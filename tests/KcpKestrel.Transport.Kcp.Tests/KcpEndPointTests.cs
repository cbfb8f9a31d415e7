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

    [Theory]
    [InlineData("127.0.0.1:4000-4010", "127.0.0.1", 4000, 4010)]
    [InlineData("0.0.0.0:1-65535", "0.0.0.0", 1, 65535)]
    [InlineData("[::1]:29900-29901", "::1", 29900, 29901)]
    [InlineData("10.0.0.1:5000-5000", "10.0.0.1", 5000, 5000)]
    public void Parse_PortRange_AsKcptun(string text, string address, int min, int max)
    {
        var endPoint = KcpEndPoint.Parse(text);

        Assert.Equal((IPAddress.Parse(address), min, max, max - min + 1), (endPoint.IPEndPoint.Address, endPoint.IPEndPoint.Port, endPoint.MaxPort, endPoint.PortCount));
        Assert.Equal(endPoint, KcpEndPoint.Parse(endPoint.ToString()["kcp://".Length..]));
    }

    [Theory]
    [InlineData("127.0.0.1:4010-4000")]
    [InlineData("127.0.0.1:0-10")]
    [InlineData("127.0.0.1:65534-70000")]
    [InlineData("127.0.0.1:4000-")]
    [InlineData("127.0.0.1:-4000")]
    [InlineData("127.0.0.1:4000-+5")]
    [InlineData("localhost:4000-4010")]
    public void Parse_BadPortRange_FormatException(string text)
    {
        var error = Assert.Throws<FormatException>(() => KcpEndPoint.Parse(text));
        Assert.Contains("MINPORT-MAXPORT", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Ctor_BadPortRange_ArgumentOutOfRange()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new KcpEndPoint(IPAddress.Loopback, 0, 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => new KcpEndPoint(IPAddress.Loopback, 6, 5));
        Assert.Equal(1, new KcpEndPoint(IPAddress.Loopback, 7).PortCount);
        Assert.NotEqual(new KcpEndPoint(IPAddress.Loopback, 7), new KcpEndPoint(IPAddress.Loopback, 7, 8));
    }

    [Fact]
    public void PickRemote_Range_StaysInsideAndCoversIt()
    {
        var range = new KcpEndPoint(IPAddress.Loopback, 100, 103);
        var picked = Enumerable.Range(0, 400).Select(_ => range.PickRemote().Port).ToHashSet();
        Assert.Equal([100, 101, 102, 103], picked.Order());
    }

    [Fact]
    public void IsNotAnIPEndPoint_SoKestrelsSocketsTransportLeavesItAlone()
    {
        EndPoint endPoint = new KcpEndPoint(IPAddress.Loopback, 1);
        Assert.IsNotType<IPEndPoint>(endPoint, exactMatch: false);
    }
}
