using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace KcpKestrel.Cli.Serve;

/// <summary>
/// What serve's <c>GET /healthz</c> answers: the host's health report status, this instance, whether a drain
/// has started, and the KCP listeners' session figures (live, accepted and closed since start).
/// </summary>
internal readonly record struct HealthSnapshot(HealthStatus Status, string Instance, bool Draining, int Sessions, long SessionsAccepted, long SessionsClosed)
{
    /// <summary>
    /// Ready for new clients: not draining and not Unhealthy. Degraded (near a limit) stays ready, as
    /// ASP.NET Core's own health endpoint maps it, so a busy instance is not taken out of rotation.
    /// </summary>
    public bool Ready => !Draining && Status != HealthStatus.Unhealthy;

    /// <summary>200 while ready, else 503.</summary>
    public int HttpStatus => Ready ? 200 : 503;

    /// <summary>One JSON object: <c>{"status":..,"instance":..,"draining":..,"sessions":..,"sessionsAccepted":..,"sessionsClosed":..}</c>.</summary>
    public string ToJson()
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            json.WriteStartObject();
            json.WriteString("status", Status.ToString());
            json.WriteString("instance", Instance);
            json.WriteBoolean("draining", Draining);
            json.WriteNumber("sessions", Sessions);
            json.WriteNumber("sessionsAccepted", SessionsAccepted);
            json.WriteNumber("sessionsClosed", SessionsClosed);
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.GetBuffer(), 0, (int)stream.Length);
    }
}
