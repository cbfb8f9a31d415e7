using System.Net;
using System.Net.Sockets;
using KcpKestrel.Transport.Kcp.Io.Native;

namespace KcpKestrel.Transport.Kcp.Io.Datagrams;

/// <summary>Creates the UDP sockets the loops own, with the options KCP wants.</summary>
internal static class UdpSockets
{
    /// <summary>A socket bound to <paramref name="endPoint"/>, with SO_REUSEPORT on Linux so several loops can share one port.</summary>
    public static Socket Bind(IPEndPoint endPoint, int bufferSize)
    {
        var socket = Create(endPoint.AddressFamily, bufferSize);
        try
        {
            if (UdpIo.SupportsReusePortBalancing)
            {
                // The option's numbers are Linux's; elsewhere the listener binds one socket.
                socket.SetRawSocketOption(LinuxNative.SOL_SOCKET, LinuxNative.SO_REUSEPORT, BitConverter.GetBytes(1));
            }
            socket.Bind(endPoint);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>A client socket connected to <paramref name="remote"/> on an ephemeral port of its own.</summary>
    public static Socket Connect(IPEndPoint remote, int bufferSize)
    {
        var socket = Create(remote.AddressFamily, bufferSize);
        try
        {
            socket.Connect(remote);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static Socket Create(AddressFamily family, int bufferSize)
    {
        var socket = new Socket(family, SocketType.Dgram, ProtocolType.Udp);
        if (family == AddressFamily.InterNetworkV6)
        {
            // [::] serves IPv4 peers too, as Kestrel's sockets transport does.
            socket.DualMode = true;
        }

        UdpSocketBuffers.Apply(socket, bufferSize);
        _ = KernelDropCount.TryEnable(socket);
        return socket;
    }
}
