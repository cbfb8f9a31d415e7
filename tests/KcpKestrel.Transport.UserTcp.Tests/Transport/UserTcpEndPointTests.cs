using System.Net;

namespace KcpKestrel.Transport.UserTcp.Tests.Transport;

public sealed class UserTcpEndPointTests
{
    [Fact]
    public void ParsesTheCliSpec()
    {
        var endPoint = UserTcpEndPoint.Parse("tun=ut0,address=10.77.0.1/24,port=8080");

        Assert.Equal("ut0", endPoint.DeviceName);
        Assert.Equal(IPAddress.Parse("10.77.0.1"), endPoint.Address);
        Assert.Equal(24, endPoint.PrefixLength);
        Assert.Equal(8080, endPoint.Port);
        Assert.Equal(IPAddress.Parse("10.77.0.2"), endPoint.PeerAddress);
        Assert.Null(endPoint.QueueCount);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("10.77.0.1"), 8080), endPoint.IPEndPoint);
        Assert.Equal("usertcp://ut0/10.77.0.1:8080", endPoint.ToString());
    }

    [Fact]
    public void ParsesKeysInAnyOrderWithPeerAndQueues()
    {
        var endPoint = UserTcpEndPoint.Parse("port=80,queues=4,peer=10.1.2.200,address=10.1.2.3/16,tun=kk-a");

        Assert.Equal(IPAddress.Parse("10.1.2.200"), endPoint.PeerAddress);
        Assert.Equal(4, endPoint.QueueCount);
        Assert.Equal(16, endPoint.PrefixLength);
    }

    [Theory]
    [InlineData("10.77.0.1", 24, "10.77.0.2")] // the first host is the stack's own: the next one
    [InlineData("10.77.0.9", 24, "10.77.0.1")]
    [InlineData("10.77.0.4", 31, "10.77.0.5")] // RFC 3021: both addresses of a /31 are hosts
    [InlineData("10.77.0.5", 31, "10.77.0.4")]
    [InlineData("10.77.0.2", 30, "10.77.0.1")]
    [InlineData("fd00:77::1", 64, "fd00:77::2")]
    [InlineData("fd00:77::5", 120, "fd00:77::1")]
    public void DefaultPeerIsTheFirstOtherHostOfThePrefix(string address, int prefix, string peer)
    {
        var endPoint = new UserTcpEndPoint("ut0", IPAddress.Parse(address), prefix, 1);

        Assert.Equal(IPAddress.Parse(peer), endPoint.PeerAddress);
    }

    [Fact]
    public void ParsesIPv6()
    {
        var endPoint = UserTcpEndPoint.Parse("tun=ut6,address=fd00:77::1/64,port=443");

        Assert.Equal(System.Net.Sockets.AddressFamily.InterNetworkV6, endPoint.AddressFamily);
        Assert.Equal(IPAddress.Parse("fd00:77::2"), endPoint.PeerAddress);
        Assert.Equal("usertcp://ut6/[fd00:77::1]:443", endPoint.ToString());
    }

    [Theory]
    [InlineData("", "is not KEY=VALUE")]
    [InlineData("tun=ut0,address=10.77.0.1/24", "tun, address and port are required")]
    [InlineData("tun=ut0,address=10.77.0.1/24,port=80,mtu=1400", "unknown key 'mtu'")]
    [InlineData("tun=ut0,tun=ut1,address=10.77.0.1/24,port=80", "'tun' is given twice")]
    [InlineData("tun=ut0,address=10.77.0.1,port=80", "is not ADDRESS/PREFIX")]
    [InlineData("tun=ut0,address=10.77.0.1/33,port=80", "prefix length of 33")]
    [InlineData("tun=ut0,address=10.77.0.1/32,port=80", "holds no other address")]
    [InlineData("tun=ut0,address=10.77.0.1/24,port=80,peer=10.78.0.2", "outside 10.77.0.1/24")]
    [InlineData("tun=ut0,address=10.77.0.1/24,port=80,peer=10.77.0.1", "the stack's own address")]
    [InlineData("tun=ut0,address=10.77.0.1/24,port=80,peer=fd00::1", "not of 10.77.0.1's family")]
    [InlineData("tun=ut0,address=10.77.0.1/24,port=65536", "accepted: 0 to 65535")]
    [InlineData("tun=ut0,address=10.77.0.1/24,port=http", "not a number")]
    [InlineData("tun=ut0,address=10.77.0.1/24,port=80,queues=0", "queues '0' is not valid")]
    [InlineData("tun=a/b,address=10.77.0.1/24,port=80", "is not a TUN device name")]
    [InlineData("tun=abcdefghijklmnop,address=10.77.0.1/24,port=80", "is not a TUN device name")]
    [InlineData("tun=ut0,address=127.0.0.1/8,port=80", "not loopback")]
    [InlineData("tun=ut0,address=224.0.0.1/24,port=80", "must be a unicast address")]
    public void RejectsBadSpecsSayingWhy(string spec, string because)
    {
        var error = Assert.Throws<FormatException>(() => UserTcpEndPoint.Parse(spec));

        Assert.Contains(because, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("(Parameter", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ExtraKeysPassThroughForFrontEnds()
    {
        var endPoint = UserTcpEndPoint.Parse("tun=ut0,address=10.77.0.1/24,port=80,color=red,size=7", ["color", "size"]);

        Assert.Equal("red", endPoint.ExtraKeys["color"]);
        Assert.Equal("7", endPoint.ExtraKeys["size"]);
    }

    [Fact]
    public void EqualityCoversTheDeviceAddressPrefixPortAndPeer()
    {
        var a = UserTcpEndPoint.Parse("tun=ut0,address=10.77.0.1/24,port=80");

        Assert.Equal(a, UserTcpEndPoint.Parse("port=80,address=10.77.0.1/24,tun=ut0"));
        Assert.NotEqual(a, UserTcpEndPoint.Parse("tun=ut1,address=10.77.0.1/24,port=80"));
        Assert.NotEqual(a, UserTcpEndPoint.Parse("tun=ut0,address=10.77.0.1/24,port=81"));
        Assert.NotEqual(a, UserTcpEndPoint.Parse("tun=ut0,address=10.77.0.1/24,port=80,peer=10.77.0.3"));
    }
}
