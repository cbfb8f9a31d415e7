using System.Net.Sockets;
using System.Runtime.InteropServices;
using KcpKestrel.Transport.Kcp.Io.Native;

namespace KcpKestrel.Transport.Kcp.Io.Datagrams;

/// <summary>
/// Chooses, once per process, how the I/O loops move datagrams: the native Linux calls when they
/// are there and work, the portable Socket path otherwise (other OSes, kernels or sandboxes without
/// recvmmsg/sendmmsg/epoll), or when <c>KCPKESTREL_UDP_IO=socket</c> asks for it.
/// </summary>
internal static class UdpIo
{
    /// <summary>Set to <c>socket</c> to use the portable path even where the native one works.</summary>
    public const string EnvironmentVariable = "KCPKESTREL_UDP_IO";

    /// <summary>Whether the native calls answered the start-up probe on this machine.</summary>
    public static bool NativeWorks { get; } = ProbeNative();

    /// <summary>The mode loops use unless their options say otherwise.</summary>
    public static UdpIoMode DefaultMode { get; } = Choose(Environment.GetEnvironmentVariable(EnvironmentVariable), NativeWorks);

    /// <summary>
    /// Whether several sockets can share a port with the kernel spreading peers across them
    /// (SO_REUSEPORT on Linux), so a listener can run several loops; elsewhere it runs one.
    /// </summary>
    public static bool SupportsReusePortBalancing => OperatingSystem.IsLinux();

    /// <summary>The mode for a setting of <see cref="EnvironmentVariable"/> and the probe's answer.</summary>
    public static UdpIoMode Choose(string? setting, bool nativeWorks) =>
        nativeWorks && !string.Equals(setting?.Trim(), "socket", StringComparison.OrdinalIgnoreCase)
            ? UdpIoMode.Native
            : UdpIoMode.Socket;

    /// <summary>The mode for options that may force one (tests), else the process default.</summary>
    public static UdpIoMode Resolve(UdpIoMode? forced) => forced ?? DefaultMode;

    // Each call the native path needs, once, on a throwaway socket: a kernel or seccomp filter
    // without them answers ENOSYS or EPERM (or the library lacks the symbol) instead of EAGAIN.
    private static unsafe bool ProbeNative()
    {
        if (!LinuxNative.IsSupported)
        {
            return false;
        }

        try
        {
            var epfd = LinuxNative.epoll_create1(LinuxNative.EPOLL_CLOEXEC);
            if (epfd < 0)
            {
                return false;
            }

            _ = LinuxNative.close(epfd);
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            using var batch = new MessageBatch(1, 64);
            var fd = (int)socket.Handle;
            batch.PrepareReceive();
            if (LinuxNative.recvmmsg(fd, batch.Headers, 1, LinuxNative.MSG_DONTWAIT, null) >= 0
                || Marshal.GetLastPInvokeError() != LinuxNative.EAGAIN)
            {
                return false;
            }

            return LinuxNative.sendmmsg(fd, batch.Headers, 0, LinuxNative.MSG_DONTWAIT) == 0;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException or SocketException)
        {
            return false;
        }
    }
}
