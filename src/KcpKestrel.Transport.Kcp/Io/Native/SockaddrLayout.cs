using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace KcpKestrel.Transport.Kcp.Io.Native;

/// <summary>
/// The transport's one address form: a sockaddr_in or sockaddr_in6 in the Linux layout (family as a
/// little-endian 16-bit AF_INET or AF_INET6, then port, address, scope), which is what recvmmsg
/// hands the native path and what <see cref="Datagrams.UdpAddressKey"/> reads. The socket path converts
/// SocketAddress buffers to and from it: they hold the OS's own sockaddr, whose family field differs
/// (23 for AF_INET6 on Windows, a length byte before a one-byte family on the BSDs and macOS) while
/// port, address and scope sit at the same offsets everywhere.
/// </summary>
internal static class SockaddrLayout
{
    public const int IPv4Size = 16;
    public const int IPv6Size = 28;

    /// <summary>Writes <paramref name="address"/> in the Linux layout; returns its length, or 0 for another family.</summary>
    public static int FromSocketAddress(SocketAddress address, Span<byte> destination)
    {
        var source = address.Buffer.Span;
        switch (address.Family)
        {
            case AddressFamily.InterNetwork when address.Size >= IPv4Size:
                BinaryPrimitives.WriteUInt16LittleEndian(destination, LinuxNative.AF_INET);
                source[2..IPv4Size].CopyTo(destination[2..]);
                return IPv4Size;
            case AddressFamily.InterNetworkV6 when address.Size >= IPv6Size:
                BinaryPrimitives.WriteUInt16LittleEndian(destination, LinuxNative.AF_INET6);
                source[2..IPv6Size].CopyTo(destination[2..]);
                return IPv6Size;
            default:
                return 0;
        }
    }

    /// <summary>
    /// Copies a Linux-layout sockaddr into the matching one of two reusable SocketAddress instances
    /// (no allocation per datagram); null for an unknown family or a short buffer.
    /// </summary>
    public static SocketAddress? ToSocketAddress(ReadOnlySpan<byte> sockaddr, SocketAddress ipv4, SocketAddress ipv6)
    {
        if (sockaddr.Length < IPv4Size)
        {
            return null;
        }

        var family = BinaryPrimitives.ReadUInt16LittleEndian(sockaddr);
        if (family == LinuxNative.AF_INET)
        {
            sockaddr[2..IPv4Size].CopyTo(ipv4.Buffer.Span[2..]);
            return ipv4;
        }

        if (family == LinuxNative.AF_INET6 && sockaddr.Length >= IPv6Size)
        {
            sockaddr[2..IPv6Size].CopyTo(ipv6.Buffer.Span[2..]);
            return ipv6;
        }

        return null;
    }
}
