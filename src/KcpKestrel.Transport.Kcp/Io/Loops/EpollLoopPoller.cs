using System.Net.Sockets;
using System.Runtime.InteropServices;
using KcpKestrel.Transport.Kcp.Diagnostics;
using KcpKestrel.Transport.Kcp.Io.Datagrams;
using KcpKestrel.Transport.Kcp.Io.Native;

namespace KcpKestrel.Transport.Kcp.Io.Loops;

/// <summary>
/// The Linux poller: epoll on the loop's sockets and an eventfd for wake-ups, each readable socket
/// drained with recvmmsg into one native batch shared by the loop.
/// </summary>
internal sealed unsafe class EpollLoopPoller : ILoopPoller
{
    private const int MaxEvents = 64;
    private const ulong WakeCookie = ulong.MaxValue;

    private readonly MessageBatch _receiveBatch;
    private readonly byte* _events;
    private readonly int _epfd;
    private readonly int _eventfd;
    private bool _disposed;

    public EpollLoopPoller(int slotSize)
    {
        if (!LinuxNative.IsSupported)
        {
            throw new PlatformNotSupportedException("The native UDP I/O path needs Linux (epoll, eventfd, recvmmsg, sendmmsg).");
        }

        // Room for the SO_RXQ_OVFL cmsg: the socket's kernel drop count.
        _receiveBatch = new MessageBatch(64, slotSize, ControlMessages.IntSpace);
        _events = (byte*)NativeMemory.AllocZeroed((nuint)(MaxEvents * LinuxNative.EpollEventSize));
        _epfd = LinuxNative.epoll_create1(LinuxNative.EPOLL_CLOEXEC);
        _eventfd = LinuxNative.eventfd(0, LinuxNative.EFD_NONBLOCK | LinuxNative.EFD_CLOEXEC);
        if (_epfd < 0 || _eventfd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            Dispose();
            throw new InvalidOperationException($"epoll/eventfd failed: errno {errno}");
        }

        Register(_eventfd, WakeCookie);
    }

    public UdpIoMode Mode => UdpIoMode.Native;

    public IDatagramChannel CreateChannel(Socket socket, IDatagramReceiver receiver, KcpTransportCounters counters, int slotSize, bool gso, bool gro) =>
        new UdpChannel(socket, receiver, counters, slotSize, gso, gro);

    public void Add(IDatagramChannel channel) => Register(((UdpChannel)channel).Fd, (ulong)channel.LoopIndex);

    public void Remove(IDatagramChannel channel) =>
        _ = LinuxNative.epoll_ctl(_epfd, LinuxNative.EPOLL_CTL_DEL, ((UdpChannel)channel).Fd, null);

    public void Signal()
    {
        ulong one = 1;
        _ = LinuxNative.write(_eventfd, &one, sizeof(ulong));
    }

    public void FlushDeferred()
    {
        // Sends leave when flushed: nothing waits for the next wait.
    }

    public uint WaitAndReceive(int timeoutMs, KcpIoLoop loop)
    {
        var n = LinuxNative.epoll_wait(_epfd, _events, MaxEvents, timeoutMs);
        var now = KcpIoLoop.NowMs;
        for (var i = 0; i < n; i++)
        {
            var data = LinuxNative.ReadEpollData(_events + (i * LinuxNative.EpollEventSize));
            if (data == WakeCookie)
            {
                ulong value;
                _ = LinuxNative.read(_eventfd, &value, sizeof(ulong));
                loop.OnSignalled();
                continue;
            }

            if (loop.ChannelAt((int)data) is UdpChannel channel)
            {
                channel.DrainReceive(_receiveBatch, now);
            }
        }

        return now;
    }

    private void Register(int fd, ulong data)
    {
        var ev = stackalloc byte[16];
        LinuxNative.WriteEpollEvent(ev, LinuxNative.EPOLLIN, data);
        if (LinuxNative.epoll_ctl(_epfd, LinuxNative.EPOLL_CTL_ADD, fd, ev) < 0)
        {
            throw new InvalidOperationException($"epoll_ctl(ADD) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (_eventfd >= 0)
        {
            _ = LinuxNative.close(_eventfd);
        }

        if (_epfd >= 0)
        {
            _ = LinuxNative.close(_epfd);
        }

        _receiveBatch.Dispose();
        NativeMemory.Free(_events);
    }
}
