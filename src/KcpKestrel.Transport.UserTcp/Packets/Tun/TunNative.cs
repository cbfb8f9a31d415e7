using System.Runtime.InteropServices;

namespace KcpKestrel.Transport.UserTcp.Packets.Tun;

/// <summary>
/// The Linux calls a TUN device needs that .NET does not expose: open/ioctl on <c>/dev/net/tun</c>, read/write of
/// whole packets, poll with an eventfd for wake-ups, and the interface ioctls (MTU, addresses, flags).
/// </summary>
internal static unsafe partial class TunNative
{
    public const int EPERM = 1;
    public const int ENOENT = 2;
    public const int EINTR = 4;
    public const int ENXIO = 6;
    public const int EAGAIN = 11;
    public const int EACCES = 13;
    public const int EBUSY = 16;
    public const int ENODEV = 19;
    public const int EINVAL = 22;
    public const int ENOBUFS = 105;
    public const int EEXIST = 17;

    public const int O_RDWR = 2;
    public const int O_NONBLOCK = 0x800;
    public const int O_CLOEXEC = 0x80000;

    public const int EFD_NONBLOCK = 0x800;
    public const int EFD_CLOEXEC = 0x80000;

    public const short POLLIN = 0x001;

    public const int AF_INET = 2;
    public const int AF_INET6 = 10;
    public const int SOCK_DGRAM = 2;
    public const int SOCK_CLOEXEC = 0x80000;

    /// <summary>_IOW('T', 202, int): attach the fd to a TUN/TAP interface.</summary>
    public const uint TUNSETIFF = 0x400454CA;

    public const short IFF_TUN = 0x0001;
    public const short IFF_NO_PI = 0x1000;
    public const short IFF_MULTI_QUEUE = 0x0100;

    public const short IFF_UP = 0x1;

    public const uint SIOCGIFFLAGS = 0x8913;
    public const uint SIOCSIFFLAGS = 0x8914;
    public const uint SIOCSIFADDR = 0x8916;
    public const uint SIOCSIFNETMASK = 0x891C;
    public const uint SIOCSIFMTU = 0x8922;
    public const uint SIOCGIFINDEX = 0x8933;

    /// <summary>IFNAMSIZ: an interface name holds at most 15 bytes and a NUL.</summary>
    public const int IfNameSize = 16;

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    public static partial int Ioctl(int fd, nuint request, void* argument);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    public static partial nint Read(int fd, void* buffer, nint count);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    public static partial nint Write(int fd, void* buffer, nint count);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    public static partial int Poll(PollFd* fds, nuint count, int timeoutMs);

    [LibraryImport("libc", EntryPoint = "eventfd", SetLastError = true)]
    public static partial int EventFd(uint initialValue, int flags);

    [LibraryImport("libc", EntryPoint = "socket", SetLastError = true)]
    public static partial int Socket(int domain, int type, int protocol);

    /// <summary><c>struct pollfd</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    /// <summary>
    /// <c>struct ifreq</c> (40 bytes on 64-bit Linux): the name, then a 24-byte union read as flags, an int (MTU,
    /// index) or a <c>struct sockaddr_in</c>.
    /// </summary>
    [StructLayout(LayoutKind.Explicit, Size = 40)]
    public struct IfReq
    {
        [FieldOffset(0)]
        public fixed byte Name[IfNameSize];

        [FieldOffset(16)]
        public short Flags;

        [FieldOffset(16)]
        public int Value;

        /// <summary>sockaddr_in.sin_family (host order).</summary>
        [FieldOffset(16)]
        public ushort Family;

        /// <summary>sockaddr_in.sin_addr (network order bytes).</summary>
        [FieldOffset(20)]
        public fixed byte Address[4];
    }

    /// <summary><c>struct in6_ifreq</c>: an address, its prefix length and the interface index.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct In6IfReq
    {
        public fixed byte Address[16];
        public uint PrefixLength;
        public int InterfaceIndex;
    }
}
