using System.Text;
using System.Text.Json;
using KcpKestrel.Transport.Kcp.Diagnostics;
using KcpKestrel.Transport.UserTcp.Listener;

namespace KcpKestrel.Cli.Serve;

/// <summary>
/// The one JSON line <c>serve</c> prints on stdout as it stops (SIGTERM or SIGINT), for scripts:
/// <c>{"event":"stopped","instance":..,"kcp":{"sessionsAccepted":..,...,"dropped":{"cipher":..,...}},"smux":{"sessions":..,"streamsAccepted":..,"protocolErrors":..}}</c>
/// (smux figures are zeros unless the endpoint multiplexes; "instance" is serve's --instance-id).
/// Drop reasons use the names of the <c>kcp.datagrams.dropped</c> metric's <c>reason</c> tag. With <c>--usertcp</c>, a
/// <c>"usertcp"</c> object follows (see <see cref="UserTcpStopReport"/>); without it the line is as it always was.
/// </summary>
internal static class StopReport
{
    public static string Format(KcpTransportCounters c, SmuxTotals smux = default, string? instance = null, IReadOnlyCollection<UserTcpConnectionListener>? userTcp = null)
    {
        ArgumentNullException.ThrowIfNull(c);
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            json.WriteStartObject();
            json.WriteString("event", "stopped");
            if (instance is not null)
            {
                json.WriteString("instance", instance);
            }

            json.WriteStartObject("kcp");
            json.WriteNumber("sessionsAccepted", c.SessionsAccepted);
            json.WriteNumber("sessionsValidated", c.SessionsValidated);
            json.WriteNumber("sessionsClosed", c.SessionsClosed);
            json.WriteNumber("bytesIn", c.BytesReceived);
            json.WriteNumber("bytesOut", c.BytesSent);
            json.WriteNumber("datagramsIn", c.DatagramsReceived);
            json.WriteNumber("datagramsOut", c.DatagramsSent);
            json.WriteNumber("replaysDropped", c.DroppedReplay);
            json.WriteNumber("amplificationLimited", c.AmplificationLimited);
            json.WriteNumber("unprovenTimeouts", c.UnprovenTimeouts);
            json.WriteNumber("migrations", c.SessionsMigrated);
            json.WriteNumber("pathChecksFailed", c.PathChecksFailed);
            json.WriteNumber("receiveBudget", c.ReceiveBudget);
            json.WriteNumber("receiveBytesHeld", c.ReceiveBytesHeld);
            json.WriteNumber("receiveBytesPeak", c.ReceiveBytesPeak);
            json.WriteNumber("sessionsClosedForMemory", c.SessionsClosedForMemory);
            json.WriteNumber("kernelDrops", c.KernelDrops);
            json.WriteNumber("socketReceiveBuffer", c.SocketReceiveBuffer);
            json.WriteNumber("socketSendBuffer", c.SocketSendBuffer);
            json.WriteStartObject("dropped");
            foreach (var reason in KcpDropReason.All)
            {
                json.WriteNumber(reason.Name, reason.Read(c));
            }

            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteStartObject("smux");
            json.WriteNumber("sessions", smux.Sessions);
            json.WriteNumber("streamsAccepted", smux.StreamsAccepted);
            json.WriteNumber("protocolErrors", smux.ProtocolErrors);
            json.WriteEndObject();
            if (userTcp is { Count: > 0 })
            {
                UserTcpStopReport.Write(json, userTcp);
            }

            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.GetBuffer(), 0, (int)stream.Length);
    }
}
