using KcpKestrel.Transport.UserTcp.Packets;
using KcpKestrel.Transport.UserTcp.Packets.Tun;

namespace KcpKestrel.Transport.UserTcp.Io;

/// <summary>
/// Creates an endpoint's TUN device and configures the kernel's side of it: the MTU, the peer address with the
/// endpoint's prefix (so the kernel routes the prefix into the device, toward the stack's address), link up.
/// </summary>
internal static class TunPacketSource
{
    /// <exception cref="TunUnavailableException">No root / CAP_NET_ADMIN, or no /dev/net/tun.</exception>
    public static IPacketSource Open(UserTcpEndPoint endPoint, int mtu, int queues)
    {
        var device = TunDevice.Open(endPoint.DeviceName, queues, mtu);
        try
        {
            var kernelSide = (endPoint.PeerAddress, endPoint.PrefixLength);
            var isIPv6 = endPoint.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6;
            TunConfiguration.Configure(device.Name, mtu, isIPv6 ? null : kernelSide, isIPv6 ? kernelSide : null);
            return device;
        }
        catch
        {
            device.Dispose();
            throw;
        }
    }
}
