using KcpKestrel.Transport.UserTcp.Packets;

namespace KcpKestrel.Transport.UserTcp.Io;

/// <summary>
/// Creates an endpoint's TUN device and configures the kernel's side of it. PENDING: ut-wire's TunDevice has not
/// landed yet; until then only endpoints that carry their own packet source can be served.
/// </summary>
internal static class TunPacketSource
{
    public static IPacketSource Open(UserTcpEndPoint endPoint, int mtu, int queues) =>
        throw new NotSupportedException($"{endPoint}: the TUN device support is not in this build yet (mtu {mtu}, {queues} queue(s)).");
}
