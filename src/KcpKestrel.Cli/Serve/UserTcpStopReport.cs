using System.Text.Json;
using KcpKestrel.Transport.UserTcp.Diagnostics;
using KcpKestrel.Transport.UserTcp.Listener;
using KcpKestrel.Transport.UserTcp.Packets;
using KcpKestrel.Transport.UserTcp.Tcp;

namespace KcpKestrel.Cli.Serve;

/// <summary>
/// The <c>"usertcp"</c> object of serve's stop line: packets and bytes, connections, retransmissions and recoveries,
/// and every drop by the reason the <c>usertcp.packets.dropped</c> metric's tag names, summed over the loops.
/// </summary>
internal static class UserTcpStopReport
{
    public static void Write(Utf8JsonWriter json, IEnumerable<UserTcpConnectionListener> listeners)
    {
        var packets = new PacketCounters();
        var tcp = new TcpCounters();
        var active = 0;
        var drops = new long[UserTcpDropReasons.All.Count];
        foreach (var listener in listeners)
        {
            active += listener.ActiveConnections;
            if (listener.Runtime is null)
            {
                continue;
            }

            foreach (var loop in listener.Runtime.Loops)
            {
                var p = loop.PacketCounters;
                var t = loop.TcpCounters;
                packets.PacketsIn += p.PacketsIn;
                packets.PacketsOut += p.PacketsOut;
                packets.BytesIn += p.BytesIn;
                packets.BytesOut += p.BytesOut;
                tcp.PassiveOpens += t.PassiveOpens;
                tcp.ActiveOpens += t.ActiveOpens;
                tcp.Established += t.Established;
                tcp.ClosedNormally += t.ClosedNormally;
                tcp.ResetsReceived += t.ResetsReceived;
                tcp.ResetsSent += t.ResetsSent;
                tcp.Aborted += t.Aborted;
                tcp.TimedOut += t.TimedOut;
                tcp.KeepAliveTimedOut += t.KeepAliveTimedOut;
                tcp.AcceptQueueFull += t.AcceptQueueFull;
                tcp.SegmentsReceived += t.SegmentsReceived;
                tcp.SegmentsSent += t.SegmentsSent;
                tcp.BytesReceived += t.BytesReceived;
                tcp.BytesSent += t.BytesSent;
                tcp.Retransmits += t.Retransmits;
                tcp.FastRetransmits += t.FastRetransmits;
                tcp.RtoExpirations += t.RtoExpirations;
                tcp.SackRecoveries += t.SackRecoveries;
                tcp.ZeroWindowProbes += t.ZeroWindowProbes;
                tcp.KeepAlivesSent += t.KeepAlivesSent;
                tcp.DuplicateSegments += t.DuplicateSegments;
                tcp.OutOfOrderSegments += t.OutOfOrderSegments;
                tcp.ChallengeAcksSent += t.ChallengeAcksSent;
                tcp.ChallengeAcksLimited += t.ChallengeAcksLimited;
                tcp.SynCookiesSent += t.SynCookiesSent;
                tcp.SynCookiesAccepted += t.SynCookiesAccepted;
                tcp.ResetsRateLimited += t.ResetsRateLimited;
                tcp.PersistTimeouts += t.PersistTimeouts;
                for (var i = 0; i < drops.Length; i++)
                {
                    drops[i] += UserTcpDropReasons.All[i].Read(p, t);
                }
            }
        }

        json.WriteStartObject("usertcp");
        json.WriteNumber("packetsIn", packets.PacketsIn);
        json.WriteNumber("packetsOut", packets.PacketsOut);
        json.WriteNumber("bytesIn", tcp.BytesReceived);
        json.WriteNumber("bytesOut", tcp.BytesSent);
        json.WriteNumber("segmentsIn", tcp.SegmentsReceived);
        json.WriteNumber("segmentsOut", tcp.SegmentsSent);
        json.WriteNumber("connectionsOpen", active);
        json.WriteNumber("passiveOpens", tcp.PassiveOpens);
        json.WriteNumber("activeOpens", tcp.ActiveOpens);
        json.WriteNumber("established", tcp.Established);
        json.WriteNumber("closedNormally", tcp.ClosedNormally);
        json.WriteNumber("resetsReceived", tcp.ResetsReceived);
        json.WriteNumber("resetsSent", tcp.ResetsSent);
        json.WriteNumber("aborted", tcp.Aborted);
        json.WriteNumber("timedOut", tcp.TimedOut);
        json.WriteNumber("keepAliveTimedOut", tcp.KeepAliveTimedOut);
        json.WriteNumber("acceptQueueFull", tcp.AcceptQueueFull);
        json.WriteNumber("retransmits", tcp.Retransmits);
        json.WriteNumber("fastRetransmits", tcp.FastRetransmits);
        json.WriteNumber("rtoExpirations", tcp.RtoExpirations);
        json.WriteNumber("sackRecoveries", tcp.SackRecoveries);
        json.WriteNumber("zeroWindowProbes", tcp.ZeroWindowProbes);
        json.WriteNumber("keepAlivesSent", tcp.KeepAlivesSent);
        json.WriteNumber("duplicateSegments", tcp.DuplicateSegments);
        json.WriteNumber("outOfOrderSegments", tcp.OutOfOrderSegments);
        json.WriteNumber("challengeAcksSent", tcp.ChallengeAcksSent);
        json.WriteNumber("challengeAcksLimited", tcp.ChallengeAcksLimited);
        json.WriteNumber("synCookiesSent", tcp.SynCookiesSent);
        json.WriteNumber("synCookiesAccepted", tcp.SynCookiesAccepted);
        json.WriteNumber("resetsRateLimited", tcp.ResetsRateLimited);
        json.WriteNumber("persistTimeouts", tcp.PersistTimeouts);
        json.WriteStartObject("dropped");
        for (var i = 0; i < drops.Length; i++)
        {
            json.WriteNumber(UserTcpDropReasons.All[i].Name, drops[i]);
        }

        json.WriteEndObject();
        json.WriteEndObject();
    }
}
