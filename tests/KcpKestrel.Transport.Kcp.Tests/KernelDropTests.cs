using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using KcpKestrel.Transport.Kcp.Diagnostics;
using KcpKestrel.Transport.Kcp.Io.Datagrams;
using KcpKestrel.Transport.Kcp.Io.Loops;
using KcpKestrel.Transport.Kcp.Io.Native;
using KcpKestrel.Transport.Kcp.Tests.IoUring;
using Xunit.Abstractions;

namespace KcpKestrel.Transport.Kcp.Tests;

/// <summary>
/// Kernel drops (SO_RXQ_OVFL) reach the loop's counters: a socket with a tiny receive buffer is flooded
/// while its loop does not read (the loop's thread is not running; the test turns the poller by hand),
/// and the drops show once the loop reads the next datagram.
/// </summary>
public sealed class KernelDropTests(ITestOutputHelper output)
{
    private const int Flood = 200;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Flood_WhileTheLoopIsNotReading_CountsEveryDatagramTheKernelDropped(bool ioUring)
    {
        var mode = ioUring ? UdpIoMode.IoUring : UdpIoMode.Native;
        if (!OperatingSystem.IsLinux() || (mode == UdpIoMode.IoUring && IoUringTestSupport.Unavailable(output)))
        {
            return;
        }

        using var loop = new KcpIoLoop("kernel-drops", 2048, mode);
        Assert.Equal(mode, loop.Mode);

        // The smallest buffer the option accepts: a handful of datagrams fit, the rest of the flood is dropped.
        var server = UdpSockets.Bind(new IPEndPoint(IPAddress.Loopback, 0), 4096);
        var receiver = new CountingReceiver();
        var channel = loop.CreateChannel(server, receiver, 2048, gso: false, gro: false);
        loop.AddChannel(channel);
        using var peer = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        peer.Connect(server.LocalEndPoint!);

        var payload = new byte[1000];
        for (var i = 0; i < Flood; i++)
        {
            peer.Send(payload);
        }

        // What fitted was queued before any drop: it carries no drop count.
        TurnUntil(loop, () => false, TimeSpan.FromMilliseconds(300));
        var fitted = receiver.Received;
        Assert.InRange(fitted, 1, Flood - 1);
        Assert.Equal(0, loop.Counters.KernelDrops);

        // The next datagram is stamped with the socket's drop count so far.
        peer.Send(payload);
        TurnUntil(loop, () => receiver.Received > fitted, TestWaits.Bound);
        output.WriteLine($"{mode}: {fitted} of {Flood} fitted, kernel drops {loop.Counters.KernelDrops}");
        Assert.Equal(Flood - fitted, loop.Counters.KernelDrops);

        loop.RemoveChannel(channel);
    }

    [Fact]
    public void Observe_GrowingDropCounts_AddsOnlyTheGrowth()
    {
        var counters = new KcpTransportCounters();
        var drops = default(KernelDropCount);
        drops.Observe(DropCmsg(5), counters);
        drops.Observe(DropCmsg(5), counters);
        drops.Observe(default, counters);
        drops.Observe(DropCmsg(12), counters);
        Assert.Equal(12, counters.KernelDrops);
    }

    [Fact]
    public void Observe_DropCountAfterAGroCmsg_IsFound()
    {
        var control = new byte[2 * ControlMessages.IntSpace];
        WriteCmsg(control, LinuxNative.SOL_UDP, LinuxNative.UDP_GRO, 1350);
        WriteCmsg(control.AsSpan(ControlMessages.IntSpace), LinuxNative.SOL_SOCKET, LinuxNative.SO_RXQ_OVFL, 7);
        var counters = new KcpTransportCounters();
        var drops = default(KernelDropCount);
        drops.Observe(control, counters);
        Assert.Equal(7, counters.KernelDrops);
        Assert.Equal(1350, UdpSegmentation.ReadGroSegmentSize(control));
    }

    private static byte[] DropCmsg(uint count)
    {
        var control = new byte[ControlMessages.IntSpace];
        WriteCmsg(control, LinuxNative.SOL_SOCKET, LinuxNative.SO_RXQ_OVFL, count);
        return control;
    }

    // struct cmsghdr on 64-bit Linux, CMSG_LEN(4) = 20, then a u32.
    private static void WriteCmsg(Span<byte> control, int level, int type, uint value)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(control, 20);
        BinaryPrimitives.WriteInt32LittleEndian(control[8..], level);
        BinaryPrimitives.WriteInt32LittleEndian(control[12..], type);
        BinaryPrimitives.WriteUInt32LittleEndian(control[16..], value);
    }

    // The loop's thread never started: this thread owns the poller and reads only when it turns it.
    private static void TurnUntil(KcpIoLoop loop, Func<bool> done, TimeSpan limit)
    {
        var watch = Stopwatch.StartNew();
        while (!done() && watch.Elapsed < limit)
        {
            _ = loop.Poller.WaitAndReceive(20, loop);
        }
    }

    private sealed class CountingReceiver : IDatagramReceiver
    {
        public int Received { get; private set; }

        public void OnDatagram(IDatagramChannel channel, Span<byte> datagram, ReadOnlySpan<byte> sockaddr, uint now) => Received++;
    }
}
