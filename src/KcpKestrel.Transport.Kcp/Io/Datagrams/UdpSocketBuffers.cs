using System.Net.Sockets;
using KcpKestrel.Transport.Kcp.Io.Native;

namespace KcpKestrel.Transport.Kcp.Io.Datagrams;

/// <summary>
/// Sizes a UDP socket's kernel buffers and reads back what it got. Linux caps SO_RCVBUF/SO_SNDBUF at
/// net.core.rmem_max/wmem_max (208 KiB on many systems) without a word, and a receive buffer smaller
/// than a window in flight turns every burst into drops KCP must retransmit. Where the cap bites,
/// SO_RCVBUFFORCE/SO_SNDBUFFORCE go past it when the process may (root or CAP_NET_ADMIN).
/// </summary>
internal static class UdpSocketBuffers
{
    /// <summary>Asks for <paramref name="size"/> bytes each way, past the system cap where allowed.</summary>
    public static void Apply(Socket socket, int size)
    {
        socket.ReceiveBufferSize = size;
        socket.SendBufferSize = size;
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        var (receive, send) = Measure(socket);
        if (receive < size)
        {
            TryForce(socket, LinuxNative.SO_RCVBUFFORCE, size);
        }

        if (send < size)
        {
            TryForce(socket, LinuxNative.SO_SNDBUFFORCE, size);
        }
    }

    /// <summary>
    /// The sizes the socket has, in the units they were asked in: Linux reports twice the size set (it
    /// reserves as much again for its own bookkeeping), so its figures are halved here.
    /// </summary>
    public static (int Receive, int Send) Measure(Socket socket)
    {
        var receive = socket.ReceiveBufferSize;
        var send = socket.SendBufferSize;
        return OperatingSystem.IsLinux() ? (receive / 2, send / 2) : (receive, send);
    }

    private static void TryForce(Socket socket, int option, int size)
    {
        try
        {
            socket.SetRawSocketOption(LinuxNative.SOL_SOCKET, option, BitConverter.GetBytes(size));
        }
        catch (SocketException)
        {
            // EPERM without CAP_NET_ADMIN: the capped size stays, and the caller reports it.
        }
    }
}
