using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace KcpKestrel.Transport.UserTcp.Tcp;

/// <summary>
/// A connection's 4-tuple from this stack's side. Addresses are held as 128-bit big-endian values (IPv4 as
/// ::ffff:a.b.c.d) so one allocation-free key serves both families in the stack's flow table.
/// </summary>
internal readonly struct TcpFlowKey : IEquatable<TcpFlowKey>
{
    private const ulong V4MappedHigh = 0UL;
    private const ulong V4MappedLowPrefix = 0x0000_FFFF_0000_0000UL;

    public TcpFlowKey(UInt128 localAddress, ushort localPort, UInt128 remoteAddress, ushort remotePort, bool isIPv6)
    {
        LocalAddress = localAddress;
        RemoteAddress = remoteAddress;
        LocalPort = localPort;
        RemotePort = remotePort;
        IsIPv6 = isIPv6;
    }

    /// <summary>This stack's address.</summary>
    public UInt128 LocalAddress { get; }

    /// <summary>The peer's address.</summary>
    public UInt128 RemoteAddress { get; }

    /// <summary>This stack's port.</summary>
    public ushort LocalPort { get; }

    /// <summary>The peer's port.</summary>
    public ushort RemotePort { get; }

    /// <summary>Whether the flow is IPv6 (else IPv4, its addresses v4-mapped).</summary>
    public bool IsIPv6 { get; }

    /// <summary>The key of a flow between two endpoints of one family.</summary>
    public static TcpFlowKey From(IPEndPoint local, IPEndPoint remote)
    {
        if (local.AddressFamily != remote.AddressFamily)
        {
            throw new ArgumentException("Both endpoints must be of one address family.", nameof(remote));
        }

        return new TcpFlowKey(ToUInt128(local.Address), (ushort)local.Port, ToUInt128(remote.Address), (ushort)remote.Port, local.AddressFamily == AddressFamily.InterNetworkV6);
    }

    /// <summary>An address as this key holds it (IPv4 v4-mapped).</summary>
    public static UInt128 ToUInt128(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            bytes.Clear();
            bytes[10] = 0xFF;
            bytes[11] = 0xFF;
            address.TryWriteBytes(bytes[12..], out _);
        }
        else
        {
            address.TryWriteBytes(bytes, out _);
        }

        return BinaryPrimitives.ReadUInt128BigEndian(bytes);
    }

    /// <summary>An IPv4 address (4 bytes, network order) as this key holds it.</summary>
    public static UInt128 FromIPv4(ReadOnlySpan<byte> address) =>
        new(V4MappedHigh, V4MappedLowPrefix | BinaryPrimitives.ReadUInt32BigEndian(address));

    /// <summary>An IPv6 address (16 bytes, network order) as this key holds it.</summary>
    public static UInt128 FromIPv6(ReadOnlySpan<byte> address) => BinaryPrimitives.ReadUInt128BigEndian(address);

    /// <summary>Writes an address in network order: 4 bytes for IPv4, 16 for IPv6.</summary>
    public static void WriteAddress(UInt128 address, bool isIPv6, Span<byte> destination)
    {
        if (isIPv6)
        {
            BinaryPrimitives.WriteUInt128BigEndian(destination, address);
        }
        else
        {
            BinaryPrimitives.WriteUInt32BigEndian(destination, (uint)address);
        }
    }

    /// <summary>The address as an <see cref="IPAddress"/> (allocates: for logs, features and tests).</summary>
    public static IPAddress ToIPAddress(UInt128 address, bool isIPv6)
    {
        Span<byte> bytes = stackalloc byte[16];
        WriteAddress(address, isIPv6, bytes);
        return new IPAddress(isIPv6 ? bytes : bytes[..4]);
    }

    /// <summary>This stack's endpoint (allocates).</summary>
    public IPEndPoint ToLocalEndPoint() => new(ToIPAddress(LocalAddress, IsIPv6), LocalPort);

    /// <summary>The peer's endpoint (allocates).</summary>
    public IPEndPoint ToRemoteEndPoint() => new(ToIPAddress(RemoteAddress, IsIPv6), RemotePort);

    public bool Equals(TcpFlowKey other) =>
        LocalAddress == other.LocalAddress && RemoteAddress == other.RemoteAddress
        && LocalPort == other.LocalPort && RemotePort == other.RemotePort && IsIPv6 == other.IsIPv6;

    public override bool Equals(object? obj) => obj is TcpFlowKey other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(LocalAddress, RemoteAddress, LocalPort, RemotePort);

    public override string ToString() => $"{ToLocalEndPoint()} <-> {ToRemoteEndPoint()}";

    public static bool operator ==(TcpFlowKey left, TcpFlowKey right) => left.Equals(right);

    public static bool operator !=(TcpFlowKey left, TcpFlowKey right) => !left.Equals(right);
}
