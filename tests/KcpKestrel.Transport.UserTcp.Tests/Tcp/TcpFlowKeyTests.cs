using System.Net;
using KcpKestrel.Transport.UserTcp.Tcp;

namespace KcpKestrel.Transport.UserTcp.Tests.Tcp;

public sealed class TcpFlowKeyTests
{
    [Theory]
    [InlineData("10.77.0.1", 8080, "10.77.0.2", 40000)]
    [InlineData("fd00:77::1", 443, "fd00:77::2", 1)]
    public void EndPoints_RoundTrip(string local, int localPort, string remote, int remotePort)
    {
        var key = TcpFlowKey.From(new IPEndPoint(IPAddress.Parse(local), localPort), new IPEndPoint(IPAddress.Parse(remote), remotePort));

        Assert.Equal(new IPEndPoint(IPAddress.Parse(local), localPort), key.ToLocalEndPoint());
        Assert.Equal(new IPEndPoint(IPAddress.Parse(remote), remotePort), key.ToRemoteEndPoint());
        Assert.Equal(IPAddress.Parse(local).AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6, key.IsIPv6);
    }

    [Fact]
    public void IPv4FromWireBytes_EqualsTheMappedForm()
    {
        Assert.Equal(TcpFlowKey.ToUInt128(IPAddress.Parse("10.77.0.1")), TcpFlowKey.FromIPv4([10, 77, 0, 1]));
    }

    [Fact]
    public void FlowsDifferingInOnePort_AreDifferentKeys()
    {
        var a = TcpFlowKey.From(new IPEndPoint(IPAddress.Parse("10.0.0.1"), 80), new IPEndPoint(IPAddress.Parse("10.0.0.2"), 5000));
        var b = TcpFlowKey.From(new IPEndPoint(IPAddress.Parse("10.0.0.1"), 80), new IPEndPoint(IPAddress.Parse("10.0.0.2"), 5001));

        Assert.NotEqual(a, b);
        Assert.Equal(a, TcpFlowKey.From(new IPEndPoint(IPAddress.Parse("10.0.0.1"), 80), new IPEndPoint(IPAddress.Parse("10.0.0.2"), 5000)));
    }
}
