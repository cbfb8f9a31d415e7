using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace KcpKestrel.Transport.Tcp.IoUring;

/// <summary>The few libc calls the io_uring engine makes outside the ring: wake-ups, socket options, shutdown, addresses.</summary>
internal static unsafe partial class IoUringTcpNative
{
    internal const int EfdCloexec = 0x80000;
    internal const int SockCloexec = 0x80000;
    internal const int ShutWr = 1;
    internal const int ShutRdWr = 2;
    internal const uint MsgNoSignal = 0x4000;
    internal const int SoLinger = 13;

    internal const int EINVAL = 22;
    internal const int EPIPE = 32;
    internal const int ENFILE = 23;
    internal const int EMFILE = 24;
    internal const int ECONNRESET = 104;

    [LibraryImport("libc")]
    internal static partial int gettid();

    [LibraryImport("libc", SetLastError = true)]
    internal static partial int eventfd(uint initval, int flags);

    [LibraryImport("libc", SetLastError = true)]
    internal static partial nint write(int fd, void* buf, nuint count);

    [LibraryImport("libc", SetLastError = true)]
    internal static partial int close(int fd);

    [LibraryImport("libc", SetLastError = true)]
    internal static partial int shutdown(int fd, int how);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int setsockopt(int fd, int level, int name, void* value, uint length);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int getsockname(int fd, byte* addr, uint* length);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int getpeername(int fd, byte* addr, uint* length);

    internal static int SetInt(int fd, int level, int name, int value) => setsockopt(fd, level, name, &value, sizeof(int));

    /// <summary>Closes with a reset (SO_LINGER 0): no TIME_WAIT, no buffers spent on a connection refused at accept.</summary>
    internal static void CloseAbortive(int fd)
    {
        var linger = stackalloc int[2] { 1, 0 };
        _ = setsockopt(fd, TcpSocketOptionNames.SolSocket, SoLinger, linger, 2 * sizeof(int));
        _ = close(fd);
    }

    internal static IPEndPoint? LocalEndPoint(int fd)
    {
        var storage = stackalloc byte[128];
        uint length = 128;
        return getsockname(fd, storage, &length) == 0 ? Parse(storage) : null;
    }

    internal static IPEndPoint? RemoteEndPoint(int fd)
    {
        var storage = stackalloc byte[128];
        uint length = 128;
        return getpeername(fd, storage, &length) == 0 ? Parse(storage) : null;
    }

    // struct sockaddr_in / sockaddr_in6: family (host order), port (network order), then the address.
    private static IPEndPoint? Parse(byte* sa)
    {
        var family = *(ushort*)sa;
        var port = (sa[2] << 8) | sa[3];
        return family switch
        {
            2 => new IPEndPoint(new IPAddress(new ReadOnlySpan<byte>(sa + 4, 4)), port),
            10 => new IPEndPoint(new IPAddress(new ReadOnlySpan<byte>(sa + 8, 16), *(uint*)(sa + 24)), port),
            _ => null,
        };
    }

    internal static SocketError ToSocketError(int errno) => errno switch
    {
        ECONNRESET => SocketError.ConnectionReset,
        EPIPE => SocketError.Shutdown,
        _ => SocketError.SocketError,
    };
}
