using System.Runtime.InteropServices;
using KcpKestrel.Native;

namespace KcpKestrel.Transport.Kcp.Io.Native;

/// <summary>
/// The few Linux calls the I/O loop needs that .NET does not expose: epoll with an eventfd for
/// wake-ups, and recvmmsg/sendmmsg to move a batch of datagrams per system call.
/// </summary>
internal static unsafe partial class LinuxNative
{
    public const int EAGAIN = 11;
    public const int EINTR = 4;
    public const int EIO = 5;
    public const int EINVAL = 22;
    public const int EMSGSIZE = 90;
    public const int ENOPROTOOPT = 92;
    public const int EOPNOTSUPP = 95;

    public const int EPOLL_CTL_ADD = 1;
    public const int EPOLL_CTL_DEL = 2;
    public const uint EPOLLIN = 0x001;
    public const int EPOLL_CLOEXEC = 0x80000;

    public const int EFD_NONBLOCK = 0x800;
    public const int EFD_CLOEXEC = 0x80000;

    public const int MSG_DONTWAIT = 0x40;
    public const int MSG_TRUNC = 0x20;
    public const int MSG_CTRUNC = 0x08;

    public const int SOL_UDP = 17;

    /// <summary>UDP GSO (Linux 4.18): a cmsg or socket option carrying the segment size (u16).</summary>
    public const int UDP_SEGMENT = 103;

    /// <summary>UDP GRO (Linux 5.0): a socket option, and a received cmsg carrying the segment size (int).</summary>
    public const int UDP_GRO = 104;

    public const int SOL_SOCKET = 1;
    public const int SO_REUSEPORT = 15;
    public const int SO_SNDBUF = 7;
    public const int SO_RCVBUF = 8;

    /// <summary>As SO_SNDBUF/SO_RCVBUF, but past net.core.wmem_max/rmem_max; needs CAP_NET_ADMIN.</summary>
    public const int SO_SNDBUFFORCE = 32;
    public const int SO_RCVBUFFORCE = 33;

    /// <summary>A socket option, and a received cmsg carrying the socket's drop count so far (u32).</summary>
    public const int SO_RXQ_OVFL = 40;

    public const int AF_INET = 2;
    public const int AF_INET6 = 10;

    /// <summary>sizeof(struct epoll_event): packed to 12 bytes on x86-64 only.</summary>
    public static readonly int EpollEventSize = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 12 : 16;

    public static bool IsSupported { get; } = OperatingSystem.IsLinux() && Probe();

    [LibraryImport("libc", SetLastError = true)]
    public static partial int epoll_create1(int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int epoll_ctl(int epfd, int op, int fd, byte* ev);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int epoll_wait(int epfd, byte* events, int maxevents, int timeout);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int eventfd(uint initval, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint read(int fd, void* buf, nint count);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint write(int fd, void* buf, nint count);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int close(int fd);

    public const short POLLOUT = 0x004;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int poll(PollFd* fds, nuint nfds, int timeout);

    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [LibraryImport("libc", SetLastError = true)]
    public static partial int recvmmsg(int fd, MMsgHdr* msgvec, uint vlen, int flags, void* timeout);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int sendmmsg(int fd, MMsgHdr* msgvec, uint vlen, int flags);

    public static void WriteEpollEvent(byte* ev, uint events, ulong data)
    {
        *(uint*)ev = events;
        *(ulong*)(ev + (EpollEventSize == 12 ? 4 : 8)) = data;
    }

    public static ulong ReadEpollData(byte* ev) => *(ulong*)(ev + (EpollEventSize == 12 ? 4 : 8));

    private static bool Probe()
    {
        try
        {
            var fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
            if (fd < 0)
            {
                return false;
            }

            _ = close(fd);
            return true;
        }
        catch (DllNotFoundException)
        {
            return false;
        }
        catch (EntryPointNotFoundException)
        {
            return false;
        }
    }



    [StructLayout(LayoutKind.Sequential)]
    public struct MMsgHdr
    {
        public MsgHdr Header;
        public uint Length;
    }
}
