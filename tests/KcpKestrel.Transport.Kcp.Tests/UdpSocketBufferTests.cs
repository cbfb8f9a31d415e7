using System.Net;
using System.Net.Sockets;
using KcpKestrel.Transport.Kcp.Io.Datagrams;

namespace KcpKestrel.Transport.Kcp.Tests;

/// <summary>Socket buffers get the size asked for up to the kernel's cap, past it only with the right to force it, and report what they got.</summary>
public sealed class UdpSocketBufferTests
{
    [Fact]
    public void Apply_WithinTheSystemCap_GetsTheSizeAsked()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        var asked = (int)Math.Min(ReadSysctl("rmem_max"), Math.Min(ReadSysctl("wmem_max"), 1 << 20));
        using var socket = UdpSockets.Bind(new IPEndPoint(IPAddress.Loopback, 0), asked);
        Assert.Equal((asked, asked), UdpSocketBuffers.Measure(socket));
    }

    [Fact]
    public void Apply_PastTheSystemCap_IsForcedWhenAllowedAndCappedOtherwise()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        var cap = ReadSysctl("rmem_max");
        var asked = (int)Math.Min(cap * 2, 64 << 20);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        UdpSocketBuffers.Apply(socket, asked);
        var (receive, _) = UdpSocketBuffers.Measure(socket);

        // SO_RCVBUFFORCE needs CAP_NET_ADMIN; root has it (CI), others keep the cap.
        Assert.Equal(Environment.IsPrivilegedProcess ? asked : cap, receive);
    }

    private static long ReadSysctl(string name) => long.Parse(File.ReadAllText($"/proc/sys/net/core/{name}").Trim(), System.Globalization.CultureInfo.InvariantCulture);
}
