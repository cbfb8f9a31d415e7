using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace KcpKestrel.Cli.Tests.UserTcp;

/// <summary>
/// A packet socket (AF_PACKET) on the stack's TUN device inside the test's namespace: what it sends reaches the
/// stack byte for byte (no kernel fix-ups: bad IP checksums, fragments, spoofed sources all pass), and it sees every
/// packet the stack writes to the device, including those to spoofed addresses the kernel then drops.
/// </summary>
internal sealed class TunTap : IDisposable
{
    private const int AfPacket = 17;
    private const int SockDgram = 2;
    private const ushort EthPIp = 0x0800;

    private readonly Socket _socket;

    private TunTap(Socket socket) => _socket = socket;

    /// <summary>Opens one on <paramref name="device"/> inside <paramref name="ns"/>.</summary>
    public static TunTap Open(NetNamespace ns, string device = "ut0") => ns.RunInside(() =>
    {
        var index = if_nametoindex(device);
        if (index == 0)
        {
            throw new InvalidOperationException($"no device {device}: errno {Marshal.GetLastPInvokeError()}");
        }

        var protocol = (ushort)((EthPIp >> 8) | ((EthPIp & 0xff) << 8));
        var fd = socket(AfPacket, SockDgram, protocol);
        if (fd < 0)
        {
            throw new InvalidOperationException($"socket(AF_PACKET) failed: errno {Marshal.GetLastPInvokeError()}");
        }

        // sockaddr_ll: family, protocol (network order), ifindex, hatype, pkttype, halen, addr[8].
        var address = new byte[20];
        BitConverter.TryWriteBytes(address.AsSpan(0), (ushort)AfPacket);
        BitConverter.TryWriteBytes(address.AsSpan(2), protocol);
        BitConverter.TryWriteBytes(address.AsSpan(4), (int)index);
        if (bind(fd, address, address.Length) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            _ = close(fd);
            throw new InvalidOperationException($"bind(AF_PACKET, {device}) failed: errno {errno}");
        }

        return new TunTap(new Socket(new SafeSocketHandle(fd, ownsHandle: true)) { ReceiveTimeout = 5000 });
    });

    /// <summary>Writes one IP packet into the device: the stack reads it next.</summary>
    public void Send(ReadOnlySpan<byte> packet) => _socket.Send(packet);

    /// <summary>Builds <paramref name="segment"/> and writes it into the device.</summary>
    public void Send(RawSegment segment) => Send(segment.ToArray());

    /// <summary>
    /// The next packet the stack sent to <paramref name="destination"/> (an IPv4 address, 4 bytes) matching
    /// <paramref name="match"/>, or null after <paramref name="timeout"/>.
    /// </summary>
    public byte[]? Receive(ReadOnlySpan<byte> destination, Func<byte[], bool> match, TimeSpan timeout)
    {
        var buffer = new byte[65536];
        var deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (Environment.TickCount64 < deadline)
        {
            _socket.ReceiveTimeout = (int)Math.Max(1, deadline - Environment.TickCount64);
            int length;
            try
            {
                length = _socket.Receive(buffer);
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock)
            {
                return null;
            }

            if (length >= 40 && buffer.AsSpan(16, 4).SequenceEqual(destination))
            {
                var packet = buffer.AsSpan(0, length).ToArray();
                if (match(packet))
                {
                    return packet;
                }
            }
        }

        return null;
    }

    public void Dispose() => _socket.Dispose();

    [DllImport("libc", SetLastError = true)]
    private static extern int socket(int domain, int type, int protocol);

    [DllImport("libc", SetLastError = true)]
    private static extern int bind(int fd, byte[] address, int length);

    [DllImport("libc", SetLastError = true)]
    private static extern int close(int fd);

    [DllImport("libc", SetLastError = true)]
    private static extern uint if_nametoindex(string name);
}
