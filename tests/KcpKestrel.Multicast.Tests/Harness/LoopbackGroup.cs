using System.Net.Sockets;
using KcpKestrel.Multicast.Io;

namespace KcpKestrel.Multicast.Tests.Harness;

/// <summary>
/// A multicast group on the loopback interface for one test: a random 239.255.x.y (or ff15::x) group
/// and a random port from 40000-59999, so tests and other processes on this host do not hear each other.
/// </summary>
internal static class LoopbackGroup
{
    public static MulticastOptions V4(ushort node, Action<MulticastOptions>? configure = null) =>
        Options(node, $"239.255.{Random.Shared.Next(1, 255)}.{Random.Shared.Next(1, 255)}:{Random.Shared.Next(40000, 60000)}", "127.0.0.1", configure);

    public static MulticastOptions V6(ushort node, Action<MulticastOptions>? configure = null) =>
        Options(node, $"[ff15::{Random.Shared.Next(1, 0xFFFF):x}]:{Random.Shared.Next(40000, 60000)}", "lo", configure);

    /// <summary>The options of another member of <paramref name="group"/>'s group.</summary>
    public static MulticastOptions Member(MulticastOptions group, ushort node, Action<MulticastOptions>? configure = null) =>
        Options(node, group.Group!, group.Interface, configure);

    /// <summary>
    /// Why this kernel does not deliver multicast on <paramref name="options"/>' group and interface
    /// (one datagram sent, a bounded wait for it), or null when it does. IPv6 on <c>lo</c> needs the
    /// interface's MULTICAST flag, which Linux does not set by default.
    /// </summary>
    public static string? Unavailable(MulticastOptions options)
    {
        try
        {
            Assert.True(GroupAddress.TryParse(options.Group, out var group));
            using var receiver = MulticastSocket.Open(group, options.Interface, 1 << 16);
            using var sender = MulticastSocket.Open(group, options.Interface, 1 << 16);
            receiver.ReceiveTimeout = 1000;
            sender.SendTo(new byte[] { 1, 2, 3 }, group);
            return receiver.Receive(new byte[16]) == 3 ? null : "a probe datagram came back altered";
        }
        catch (SocketException e)
        {
            return $"a probe datagram to {options.Group} on {options.Interface} failed: {e.SocketErrorCode} ({e.Message})";
        }
    }

    private static MulticastOptions Options(ushort node, string group, string? iface, Action<MulticastOptions>? configure)
    {
        var options = new MulticastOptions { NodeId = node, Group = group, Interface = iface, Join = MulticastJoin.Beginning };
        configure?.Invoke(options);
        return options;
    }
}
