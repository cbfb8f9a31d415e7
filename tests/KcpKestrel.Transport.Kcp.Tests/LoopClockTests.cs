using System.Net;
using System.Net.Sockets;
using KcpKestrel.Transport.Kcp.Io.Datagrams;
using KcpKestrel.Transport.Kcp.Io.Loops;

namespace KcpKestrel.Transport.Kcp.Tests;

/// <summary>
/// The end-of-turn flush, where resend deadlines are set, gets the time after the turn's receives, not
/// the time before them: a slow drain (a burst under load) must not make those deadlines fall early.
/// </summary>
public sealed class LoopClockTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task SlowReceive_TheTurnsFlush_GetsTheTimeAfterIt(bool ioUring)
    {
        var mode = UdpIo.Resolve(ioUring ? UdpIoMode.IoUring : UdpIoMode.Native);
        using var loop = new KcpIoLoop("loop-clock", 2048, mode);
        var server = UdpSockets.Bind(new IPEndPoint(IPAddress.Loopback, 0), 1 << 20);
        var probe = new SlowProbe(loop);
        var channel = loop.CreateChannel(server, probe, 2048, gso: false, gro: false);
        loop.Post(new AddChannel(channel));
        loop.Start();
        using var peer = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        peer.Connect(server.LocalEndPoint!);

        peer.Send(new byte[16]);
        await TestWaits.WaitUntilAsync(() => probe.Flushed, "the turn's flush");
        loop.Stop();

        // Not a speed bound: the flush must simply not be handed a time from before the receive finished.
        Assert.True((int)(probe.FlushNow - probe.ReceiveDone) >= 0, $"flush got {probe.FlushNow}, the receive ended at {probe.ReceiveDone}");
    }

    private sealed class AddChannel(IDatagramChannel channel) : ILoopWorkItem
    {
        public void Execute(KcpIoLoop loop, uint now) => loop.AddChannel(channel);
    }

    private sealed class SlowProbe(KcpIoLoop loop) : IDatagramReceiver, ILoopFlushable
    {
        public uint ReceiveDone { get; private set; }

        public uint FlushNow { get; private set; }

        public volatile bool Flushed;

        public void OnDatagram(IDatagramChannel channel, Span<byte> datagram, ReadOnlySpan<byte> sockaddr, uint now)
        {
            // Stands for a long drain: the clock moves on while the loop is still receiving.
            Thread.Sleep(30);
            ReceiveDone = KcpIoLoop.NowMs;
            loop.MarkDirty(this);
        }

        public void FlushDirty(uint now)
        {
            FlushNow = now;
            Flushed = true;
        }
    }
}
