using System.Net;
using KcpKestrel.Transport.UserTcp.Packets;
using KcpKestrel.Transport.UserTcp.Tcp;

namespace KcpKestrel.Transport.UserTcp.Io;

/// <summary>
/// What one loop runs: the packet dispatcher (IP in), the TCP stack, the packet writer (IP out) on the loop's queue,
/// and their counters. Everything here is touched on the loop thread only, except the counters (read by metrics).
/// </summary>
internal sealed class UserTcpLoopStack : IUserTcpLoopHandler
{
    private readonly PacketDispatcher _dispatcher;

    public UserTcpLoopStack(UserTcpLoop loop, UserTcpEndPoint endPoint, UserTcpOptions options)
    {
        Loop = loop;
        var isIPv6 = endPoint.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6;
        Writer = new PacketWriter(loop.Queue, loop.Mtu, PacketCounters);
        Stack = new TcpStack(ToStackOptions(options, isIPv6), Writer, loop.Timers);
        _dispatcher = new PacketDispatcher([TcpFlowKey.ToUInt128(endPoint.Address)], Stack, PacketCounters);
        Address = endPoint.Address;
    }

    /// <summary>The loop.</summary>
    public UserTcpLoop Loop { get; }

    /// <summary>The TCP stack (loop thread only).</summary>
    public TcpStack Stack { get; }

    /// <summary>The writer of outgoing packets.</summary>
    public PacketWriter Writer { get; }

    /// <summary>The stack's own address.</summary>
    public IPAddress Address { get; }

    /// <summary>The packet layer's counters.</summary>
    public PacketCounters PacketCounters { get; } = new();

    /// <summary>The TCP layer's counters.</summary>
    public TcpCounters TcpCounters => Stack.Counters;

    public void OnPacket(ReadOnlySpan<byte> packet, uint now) => _dispatcher.OnPacket(packet, now);

    public void RunTimers(uint now) => Stack.RunTimers(now);

    /// <summary>The internal stack options a public <see cref="UserTcpOptions"/> maps to.</summary>
    internal static TcpStackOptions ToStackOptions(UserTcpOptions options, bool isIPv6) => new()
    {
        Connection = options.ToConnectionOptions(isIPv6),
        SynBacklog = options.SynBacklog,
        MaxConnections = options.MaxConnections,
        SynCookies = options.SynCookies ? SynCookieMode.WhenBacklogFull : SynCookieMode.Never,
    };
}
