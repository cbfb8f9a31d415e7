using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace KcpKestrel.Multicast.Io;

/// <summary>
/// Opens a UDP socket that has joined a group: bound to the group's port on the wildcard address with
/// SO_REUSEADDR (multicast receivers share the port: a publisher and subscribers in one process, or
/// several subscriber processes on one host; nowhere else in this project is a port shared), sending
/// on the chosen interface with loopback on, so members on this host hear each other.
/// </summary>
internal static class MulticastSocket
{
    public static Socket Open(IPEndPoint group, string? interfaceText, int bufferBytes)
    {
        var v6 = group.AddressFamily == AddressFamily.InterNetworkV6;
        var socket = new Socket(group.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            socket.ReceiveBufferSize = bufferBytes;
            socket.SendBufferSize = bufferBytes;
            socket.Bind(new IPEndPoint(v6 ? IPAddress.IPv6Any : IPAddress.Any, group.Port));
            if (v6)
            {
                var index = InterfaceIndex(interfaceText);
                socket.SetSocketOption(SocketOptionLevel.IPv6, SocketOptionName.MulticastInterface, index);
                socket.SetSocketOption(SocketOptionLevel.IPv6, SocketOptionName.MulticastLoopback, true);
                socket.SetSocketOption(SocketOptionLevel.IPv6, SocketOptionName.AddMembership, new IPv6MulticastOption(group.Address, index));
            }
            else
            {
                var local = InterfaceAddressV4(interfaceText);
                socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.MulticastInterface, local.GetAddressBytes());
                socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.MulticastLoopback, true);
                socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.AddMembership, new MulticastOption(group.Address, local));
            }

            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>IPv4 names the interface by an address it holds; a name is looked up.</summary>
    private static IPAddress InterfaceAddressV4(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return IPAddress.Any;
        }

        if (IPAddress.TryParse(text, out var address))
        {
            return address;
        }

        return Find(text).GetIPProperties().UnicastAddresses
            .Select(a => a.Address).FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork)
            ?? throw new ArgumentException($"Interface '{text}' has no IPv4 address.", nameof(text));
    }

    /// <summary>IPv6 names the interface by index: from an address it holds, or its name; 0 is the kernel's choice.</summary>
    private static int InterfaceIndex(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return 0;
        }

        if (int.TryParse(text, out var index))
        {
            return index;
        }

        var nic = IPAddress.TryParse(text, out var address)
            ? NetworkInterface.GetAllNetworkInterfaces().FirstOrDefault(n => n.GetIPProperties().UnicastAddresses.Any(a => a.Address.Equals(address)))
            : Find(text);
        return nic?.GetIPProperties().GetIPv6Properties().Index
            ?? throw new ArgumentException($"No interface holds {text}.", nameof(text));
    }

    private static NetworkInterface Find(string name) =>
        NetworkInterface.GetAllNetworkInterfaces().FirstOrDefault(n => n.Name == name)
        ?? throw new ArgumentException($"No interface named '{name}'.", nameof(name));
}
