using System.Net.Sockets;
using KcpKestrel.Transport.Kcp.Io.Native;

namespace KcpKestrel.Transport.Kcp.Io.Datagrams;

/// <summary>
/// Decides per socket, once, whether UDP GSO (UDP_SEGMENT, Linux 4.18) and GRO (UDP_GRO, Linux 5.0)
/// are used: the caller must allow it, the environment must not turn it off
/// (<c>KCPKESTREL_UDP_GSO=0</c>, <c>KCPKESTREL_UDP_GRO=0</c>: kept so the plain path can be measured
/// and run on a kernel or device that misbehaves), and the kernel must accept the socket option.
/// </summary>
internal static class UdpOffload
{
    public static bool GsoAllowedByEnvironment { get; } = Environment.GetEnvironmentVariable("KCPKESTREL_UDP_GSO") != "0";

    public static bool GroAllowedByEnvironment { get; } = Environment.GetEnvironmentVariable("KCPKESTREL_UDP_GRO") != "0";

    // The cmsg layouts used (size_t cmsg_len) and the sendmmsg/recvmmsg paths are those of 64-bit Linux.
    private static bool Possible => OperatingSystem.IsLinux() && IntPtr.Size == 8 && BitConverter.IsLittleEndian;

    /// <summary>Probes UDP_SEGMENT by setting the socket's default segment size to 0 (no segmentation): accepted only where GSO exists.</summary>
    public static bool TryEnableGso(Socket socket, bool allowed) =>
        allowed && GsoAllowedByEnvironment && Possible && TrySet(socket, LinuxNative.UDP_SEGMENT, 0);

    /// <summary>Turns UDP_GRO on: the kernel may then hand over several same-size datagrams of a flow as one buffer.</summary>
    public static bool TryEnableGro(Socket socket, bool allowed) =>
        allowed && GroAllowedByEnvironment && Possible && TrySet(socket, LinuxNative.UDP_GRO, 1);

    /// <summary>Turns UDP_GRO off again, for a path that has no buffers for coalesced receives.</summary>
    public static bool TryDisableGro(Socket socket) => Possible && TrySet(socket, LinuxNative.UDP_GRO, 0);

    private static bool TrySet(Socket socket, int option, int value)
    {
        try
        {
            socket.SetRawSocketOption(LinuxNative.SOL_UDP, option, BitConverter.GetBytes(value));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
