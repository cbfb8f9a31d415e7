using KcpKestrel.Transport.UserTcp.Packets;
using KcpKestrel.Transport.UserTcp.Tcp;

namespace KcpKestrel.Transport.UserTcp.Diagnostics;

/// <summary>
/// Every reason a packet or segment is dropped, by the name the <c>usertcp.packets.dropped</c> metric's
/// <c>reason</c> tag and the CLI's stop report use, with where its count is read from.
/// </summary>
internal static class UserTcpDropReasons
{
    /// <summary>The packet layer's reasons, then the TCP layer's.</summary>
    public static IReadOnlyList<(string Name, Func<PacketCounters, TcpCounters, long> Read)> All { get; } =
    [
        ("bad_version", static (p, _) => p.BadVersion),
        ("truncated", static (p, _) => p.Truncated),
        ("bad_ip_header", static (p, _) => p.BadIpHeader),
        ("bad_ip_checksum", static (p, _) => p.BadIpChecksum),
        ("fragment", static (p, _) => p.Fragment),
        ("not_tcp", static (p, _) => p.NotTcp),
        ("not_our_address", static (p, _) => p.NotOurAddress),
        ("martian_source", static (p, _) => p.MartianSource),
        ("bad_tcp_checksum", static (p, _) => p.BadTcpChecksum),
        ("bad_tcp_header", static (p, _) => p.BadTcpHeader),
        ("bad_options", static (p, _) => p.BadOptions),
        ("out_dropped", static (p, _) => p.OutDropped),
        ("out_of_window", static (_, t) => t.DroppedOutOfWindow),
        ("bad_ack", static (_, t) => t.DroppedBadAck),
        ("no_connection", static (_, t) => t.DroppedNoConnection),
        ("invalid_state", static (_, t) => t.DroppedInvalidState),
        ("bad_cookie", static (_, t) => t.DroppedBadCookie),
        ("listen_queue_full", static (_, t) => t.DroppedListenQueueFull),
        ("max_connections", static (_, t) => t.DroppedMaxConnections),
        ("rst_ignored", static (_, t) => t.RstIgnored),
        ("syn_ignored", static (_, t) => t.SynIgnored),
        ("invalid_flags", static (_, t) => t.DroppedInvalidFlags),
        ("paws", static (_, t) => t.DroppedPaws),
        ("reassembly_full", static (_, t) => t.DroppedReassemblyFull),
    ];

    /// <summary>A close reason as the <c>reason</c> tag of <c>usertcp.connections.closed</c> shows it.</summary>
    public static string NameOf(TcpCloseReason reason) => reason switch
    {
        TcpCloseReason.Closed => "closed",
        TcpCloseReason.Reset => "reset",
        TcpCloseReason.Aborted => "aborted",
        TcpCloseReason.TimedOut => "timed_out",
        TcpCloseReason.KeepAliveTimedOut => "keepalive_timed_out",
        TcpCloseReason.Refused => "refused",
        TcpCloseReason.Shutdown => "shutdown",
        _ => "other",
    };
}
