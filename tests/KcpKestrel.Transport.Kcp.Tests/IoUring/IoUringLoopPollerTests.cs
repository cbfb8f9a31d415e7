using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using KcpKestrel.Transport.Kcp.Io.Datagrams;
using KcpKestrel.Transport.Kcp.Io.Loops;
using Xunit.Abstractions;
using static KcpKestrel.Transport.Kcp.Tests.IoUring.IoUringTestSupport;

namespace KcpKestrel.Transport.Kcp.Tests.IoUring;

/// <summary>
/// The io_uring poller driven by hand on the test's thread (which then owns the ring): datagrams in,
/// echoes out, buffers and descriptors all back afterwards.
/// </summary>
[Collection(IoUringTestCollection.Name)]
public sealed class IoUringLoopPollerTests(ITestOutputHelper output)
{
    /// <summary>
    /// With the default ring, and with a two-entry submission and completion queue: the sends then fill the SQ
    /// mid-batch (GetSqe submits to free entries) and the receives overflow the CQ (held back, IORING_FEAT_NODROP).
    /// </summary>
    [Theory]
    [InlineData(256u, 4096u)]
    [InlineData(2u, 2u)]
    public void WaitAndReceive_MoreDatagramsThanBuffers_AllEchoedAndEveryBufferAndFdBack(uint sqEntries, uint cqEntries)
    {
        if (Unavailable(output))
        {
            return;
        }

        var before = OpenDescriptors();
        using (var peer = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp))
        {
            var loop = new KcpIoLoop("iouring-test", 2048, UdpIoMode.IoUring, new UdpIoOverrides { IoUringRing = new() { Entries = sqEntries, CompletionEntries = cqEntries } });
            var poller = (IoUringLoopPoller)loop.Poller;
            var server = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { ReceiveBufferSize = 4 << 20 };
            server.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            var echo = new EchoReceiver();
            var channel = loop.CreateChannel(server, echo, 2048, gso: false, gro: false);
            loop.AddChannel(channel);
            peer.ReceiveBufferSize = 4 << 20;
            peer.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            peer.Connect(server.LocalEndPoint!);

            // 1,000 datagrams wait in the socket before the first enter: twice the 512 small buffers,
            // so the multishot receive runs dry (ENOBUFS) and must be armed again to get the rest.
            const int Total = 1000;
            var payload = new byte[100];
            for (var i = 0; i < Total; i++)
            {
                peer.Send(payload);
            }

            var deadline = Stopwatch.StartNew();
            while (echo.Received < Total && deadline.Elapsed < TimeSpan.FromSeconds(10))
            {
                _ = poller.WaitAndReceive(100, loop);
                channel.FlushSends();
            }

            poller.FlushDeferred();
            Assert.Equal(Total, echo.Received);
            if (cqEntries > Total)
            {
                // A small completion queue ends the multishot receive on overflow before the buffers run out.
                Assert.True(loop.Counters.ReceiveBuffersExhausted > 0, "1,000 queued datagrams should have run 512 buffers dry");
            }

            Assert.Equal(0, poller.BuffersOut);
            var back = new byte[2048];
            for (var i = 0; i < Total; i++)
            {
                Assert.Equal(payload.Length, peer.Receive(back));
            }

            var ring = poller.Ring;
            output.WriteLine($"SQ {ring.SqEntries}, CQ {ring.CqEntries}: receive calls {loop.Counters.ReceiveCalls}, send calls {loop.Counters.SendCalls}, " +
                $"ENOBUFS re-arms {loop.Counters.ReceiveBuffersExhausted}, SQ-full submits {ring.SqFullSubmits}, CQ overflow flushes {ring.CqOverflowFlushes}");
            if (cqEntries == 2)
            {
                Assert.True(ring.SqFullSubmits > 0, "a two-entry submission queue never filled");
                Assert.True(ring.CqOverflowFlushes > 0, "a two-entry completion queue never overflowed");
            }

            Assert.Equal(0u, ring.CqOverflowCount);
            loop.RemoveChannel(channel);
            loop.Dispose();
        }

        Assert.Equal(before, OpenDescriptors());
    }

    [Fact]
    public void WaitAndReceive_WokenFromAnotherThread_ReturnsBeforeItsTimeout()
    {
        if (Unavailable(output))
        {
            return;
        }

        using var loop = new KcpIoLoop("iouring-wake", 2048, UdpIoMode.IoUring);
        var poller = loop.Poller;
        _ = poller.WaitAndReceive(0, loop); // makes the ring on this thread and arms the wake-up read
        // A thread of its own, not the pool: this test's thread blocks in the ring meanwhile.
        var waker = new Thread(() =>
        {
            Thread.Sleep(50);
            loop.Wake();
        });
        waker.Start();
        var watch = Stopwatch.StartNew();
        _ = poller.WaitAndReceive(30_000, loop);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), "the wake-up never arrived");
        waker.Join();

        // Consumed: the next Wake must reach the ring again.
        loop.Wake();
        watch.Restart();
        _ = poller.WaitAndReceive(30_000, loop);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), "the second wake-up never arrived");
    }

    [Fact]
    public void EchoRoundTrips_AllocateNothing_InSteadyState()
    {
        if (Unavailable(output))
        {
            return;
        }

        using var loop = new KcpIoLoop("iouring-alloc", 2048, UdpIoMode.IoUring);
        var poller = loop.Poller;
        var server = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        server.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var echo = new EchoReceiver();
        var channel = loop.CreateChannel(server, echo, 2048, gso: true, gro: true);
        loop.AddChannel(channel);
        using var peer = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        peer.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        peer.Connect(server.LocalEndPoint!);
        var payload = new byte[1200];
        var back = new byte[2048];

        long RoundTrips(int count)
        {
            long allocated = 0;
            for (var i = 0; i < count; i++)
            {
                peer.Send(payload);
                var target = echo.Received + 1;
                var t0 = GC.GetAllocatedBytesForCurrentThread();
                while (echo.Received < target)
                {
                    _ = poller.WaitAndReceive(1000, loop);
                }

                channel.FlushSends();
                poller.FlushDeferred();
                allocated += GC.GetAllocatedBytesForCurrentThread() - t0;
                _ = peer.Receive(back);
            }

            return allocated;
        }

        _ = RoundTrips(200);
        Assert.Equal(0, RoundTrips(500));
        loop.RemoveChannel(channel);
    }

    private sealed class EchoReceiver : IDatagramReceiver
    {
        public int Received { get; private set; }

        public void OnDatagram(IDatagramChannel channel, Span<byte> datagram, ReadOnlySpan<byte> sockaddr, uint now)
        {
            Received++;
            var slot = channel.BeginSend();
            datagram.CopyTo(slot);
            channel.CommitSend(datagram.Length, sockaddr);
        }
    }
}
