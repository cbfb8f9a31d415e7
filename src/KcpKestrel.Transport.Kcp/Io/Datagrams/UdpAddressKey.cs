using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using KcpKestrel.Transport.Kcp.Io.Native;

namespace KcpKestrel.Transport.Kcp.Io.Datagrams;

/// <summary>
/// A remote UDP address as a value: IPv4 held in its IPv4-mapped IPv6 form so a dual-stack socket
/// and an IPv4 socket key the same peer alike. Built straight from a sockaddr with no allocation
/// (kcp-go formats a string per packet here).
/// </summary>
internal readonly record struct UdpAddressKey(ulong High, ulong Low, ushort Port)
{
    private const ulong MappedPrefix = 0x0000_FFFF_0000_0000;

    /// <summary>Reads a sockaddr_in or sockaddr_in6; false for any other family or a short buffer.</summary>
    public static bool TryRead(ReadOnlySpan<byte> sockaddr, out UdpAddressKey key)
    {
        key = default;
        if (sockaddr.Length < 16)
        {
            return false;
        }

        var family = BinaryPrimitives.ReadUInt16LittleEndian(sockaddr);
        var port = BinaryPrimitives.ReadUInt16BigEndian(sockaddr[2..]);
        if (family == LinuxNative.AF_INET)
        {
            key = new UdpAddressKey(0, MappedPrefix | BinaryPrimitives.ReadUInt32BigEndian(sockaddr[4..]), port);
            return true;
        }

        if (family == LinuxNative.AF_INET6 && sockaddr.Length >= 28)
        {
            key = new UdpAddressKey(
                BinaryPrimitives.ReadUInt64BigEndian(sockaddr[8..]),
                BinaryPrimitives.ReadUInt64BigEndian(sockaddr[16..]),
                port);
            return true;
        }

        return false;
    }

    public static UdpAddressKey From(IPEndPoint endPoint)
    {
        Span<byte> bytes = stackalloc byte[16];
        var address = endPoint.Address.AddressFamily == AddressFamily.InterNetwork ? endPoint.Address.MapToIPv6() : endPoint.Address;
        address.TryWriteBytes(bytes, out _);
        return new UdpAddressKey(BinaryPrimitives.ReadUInt64BigEndian(bytes), BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]), (ushort)endPoint.Port);
    }

    /// <summary>The address as .NET sees it (allocates: call once per session, not per packet).</summary>
    public IPEndPoint ToIPEndPoint()
    {
        Span<byte> bytes = stackalloc byte[16];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, High);
        BinaryPrimitives.WriteUInt64BigEndian(bytes[8..], Low);
        var address = new IPAddress(bytes);
        return new IPEndPoint(address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address, Port);
    }

    /// <summary>A prefix of the address, for limits per source network (/24 for IPv4, /64 for IPv6).</summary>
    public ulong NetworkPrefix => High == 0 && (Low >> 32) == 0xFFFF ? Low & 0xFFFF_FFFF_FFFF_FF00 : High;
}
