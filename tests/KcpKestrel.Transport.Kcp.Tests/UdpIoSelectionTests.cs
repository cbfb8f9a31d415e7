using System.Net;
using System.Net.Sockets;
using KcpKestrel.Transport.Kcp.Io.Datagrams;
using KcpKestrel.Transport.Kcp.Io.Native;
using KcpKestrel.Transport.Kcp.Tests.Infrastructure;

namespace KcpKestrel.Transport.Kcp.Tests;

/// <summary>The start-up choice between the native and the portable UDP paths, and the address form they share.</summary>
public sealed class UdpIoSelectionTests
{
    [Fact]
    public void Probe_FindsTheNativeCalls_OnLinuxOnly()
    {
        // This test machine is Linux with recvmmsg/sendmmsg/epoll: the probe must say so.
        Assert.Equal(OperatingSystem.IsLinux(), UdpIo.NativeWorks);
        Assert.Equal(OperatingSystem.IsLinux() ? UdpIoMode.Native : UdpIoMode.Socket, UdpIo.Choose(null, UdpIo.NativeWorks));
    }

    [Theory]
    [InlineData(null, true, "Native")]
    [InlineData("", true, "Native")]
    [InlineData("native", true, "Native")]
    [InlineData("socket", true, "Socket")]
    [InlineData(" Socket ", true, "Socket")]
    [InlineData(null, false, "Socket")]
    [InlineData("native", false, "Socket")]
    public void Choose_FollowsTheProbe_UnlessTheSocketPathIsAskedFor(string? setting, bool nativeWorks, string expected)
    {
        Assert.Equal(Enum.Parse<UdpIoMode>(expected), UdpIo.Choose(setting, nativeWorks));
    }

    [Theory]
    [InlineData("iouring", true, null, "IoUring")]
    [InlineData("io_uring", true, null, "IoUring")]
    [InlineData("iouring", true, "EPERM", "Native")]
    [InlineData("iouring", false, "EPERM", "Socket")]
    [InlineData("epoll", true, null, "Native")]
    [InlineData("EPOLL", false, null, "Socket")]
    [InlineData("bogus", true, null, "Native")]
    public void Choose_IoUringWhenAskedAndPossible_ElseEpollThenSocket(string setting, bool nativeWorks, string? ioUringWhyNot, string expected)
    {
        Assert.Equal(Enum.Parse<UdpIoMode>(expected), UdpIo.Choose(setting, nativeWorks, ioUringWhyNot));
    }

    [Fact]
    public void Parse_UnknownName_ThrowsNamingTheAcceptedOnes()
    {
        var error = Assert.Throws<ArgumentException>(() => UdpIo.Parse("kqueue"));
        Assert.Contains("iouring, epoll (or native), socket", error.Message, StringComparison.Ordinal);
        Assert.Null(UdpIo.Parse(" "));
    }

    [Fact]
    public void Resolve_IoUringForced_RunsItOrFallsBackSayingWhy()
    {
        var mode = UdpIo.Resolve(UdpIoMode.IoUring, out var reason);
        if (UdpIo.IoUringWhyNot is null)
        {
            Assert.Equal(UdpIoMode.IoUring, mode);
            Assert.Null(reason);
        }
        else
        {
            Assert.NotEqual(UdpIoMode.IoUring, mode);
            Assert.Contains(UdpIo.IoUringWhyNot, reason, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Resolve_PrefersTheOptionsOverTheProcessDefault()
    {
        Assert.Equal(UdpIoMode.Socket, UdpIo.Resolve(UdpIoMode.Socket));
        Assert.Equal(UdpIo.DefaultMode, UdpIo.Resolve(null));
    }

    [Fact]
    public async Task Listener_UsesTheForcedMode_AndTheDefaultOtherwise()
    {
        await using (var forced = await DirectListener.BindAsync(k => { k.Crypt = "none"; k.IoLoopCount = 2; k.IoOverrides = new() { Mode = UdpIoMode.Socket }; }))
        {
            Assert.Equal(UdpIoMode.Socket, forced.IoMode);

            // SO_REUSEPORT spreads peers on Linux whatever the I/O path: the loops stay.
            Assert.Equal(OperatingSystem.IsLinux() ? 2 : 1, forced.Options.IoLoopCount);
        }

        await using var plain = await DirectListener.BindAsync(k => { k.Crypt = "none"; k.IoLoopCount = 1; });
        Assert.Equal(UdpIo.DefaultMode, plain.IoMode);
    }

    [Fact]
    public async Task ClientFactory_UsesTheForcedMode()
    {
        await using var socket = KcpTestHost.Client(k => k.IoOverrides = new() { Mode = UdpIoMode.Socket }).CreateFactory();
        Assert.Equal(UdpIoMode.Socket, socket.IoMode);
        await using var plain = KcpTestHost.Client().CreateFactory();
        Assert.Equal(UdpIo.DefaultMode, plain.IoMode);
    }

    [Theory]
    [InlineData("127.0.0.1", 4000)]
    [InlineData("10.1.2.3", 65535)]
    [InlineData("::1", 1)]
    [InlineData("2001:db8::7", 5353)]
    [InlineData("::ffff:192.0.2.9", 443)]
    public void SockaddrLayout_RoundTripsThroughSocketAddress_AndKeysAsTheNativePathDoes(string address, int port)
    {
        var endPoint = new IPEndPoint(IPAddress.Parse(address), port);
        var socketAddress = endPoint.Serialize();
        var sockaddr = new byte[SockaddrLayout.IPv6Size];

        var length = SockaddrLayout.FromSocketAddress(socketAddress, sockaddr);

        Assert.Equal(endPoint.AddressFamily == AddressFamily.InterNetwork ? SockaddrLayout.IPv4Size : SockaddrLayout.IPv6Size, length);
        Assert.True(UdpAddressKey.TryRead(sockaddr.AsSpan(0, length), out var key));
        Assert.Equal(UdpAddressKey.From(endPoint), key);

        var ipv4 = new SocketAddress(AddressFamily.InterNetwork);
        var ipv6 = new SocketAddress(AddressFamily.InterNetworkV6);
        var back = SockaddrLayout.ToSocketAddress(sockaddr.AsSpan(0, length), ipv4, ipv6);
        Assert.NotNull(back);
        Assert.Equal(endPoint, endPoint.Create(back));
    }

    [Fact]
    public void SockaddrLayout_RejectsOtherFamiliesAndShortBuffers()
    {
        var ipv4 = new SocketAddress(AddressFamily.InterNetwork);
        var ipv6 = new SocketAddress(AddressFamily.InterNetworkV6);
        Assert.Null(SockaddrLayout.ToSocketAddress([], ipv4, ipv6));
        Assert.Null(SockaddrLayout.ToSocketAddress(new byte[16] { 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, ipv4, ipv6));
        Assert.Null(SockaddrLayout.ToSocketAddress(new byte[20] { 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, ipv4, ipv6));
        Assert.Equal(0, SockaddrLayout.FromSocketAddress(new SocketAddress(AddressFamily.Unix, 110), new byte[SockaddrLayout.IPv6Size]));
    }
}
