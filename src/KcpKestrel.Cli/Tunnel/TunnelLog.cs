using System.Globalization;
using System.Text;
using System.Text.Json;

namespace KcpKestrel.Cli.Tunnel;

/// <summary>
/// kcptun's log: <c>2006/01/02 15:04:05 message</c> lines (Go's log package) on stderr or the <c>--log</c> file;
/// <c>--quiet</c> drops the per-stream lines only, as in kcptun. Also the tally of streams and bytes for the
/// JSON line printed on stop.
/// </summary>
internal sealed class TunnelLog(TextWriter writer, bool quiet, TimeProvider time)
{
    private readonly Lock _lock = new();
    private long _streams;
    private long _failed;
    private long _up;
    private long _down;

    public bool Quiet { get; } = quiet;

    public void Line(string message)
    {
        var stamp = time.GetLocalNow().ToString("yyyy/MM/dd HH:mm:ss", CultureInfo.InvariantCulture);
        lock (_lock)
        {
            writer.Write(stamp);
            writer.Write(' ');
            writer.WriteLine(message);
            writer.Flush();
        }
    }

    public void StreamOpened(string inbound, string outbound)
    {
        Interlocked.Increment(ref _streams);
        if (!Quiet)
        {
            Line($"stream opened in: {inbound} out: {outbound}");
        }
    }

    public void StreamClosed(string inbound, string outbound, TunnelBytes bytes)
    {
        Interlocked.Add(ref _up, bytes.Up);
        Interlocked.Add(ref _down, bytes.Down);
        if (!Quiet)
        {
            Line($"stream closed in: {inbound} out: {outbound} bytes up: {bytes.Up} down: {bytes.Down}");
        }
    }

    /// <summary>A stream that could not be tunnelled (the target refused, the server was unreachable); always logged, as kcptun does.</summary>
    public void StreamFailed(string message)
    {
        Interlocked.Increment(ref _failed);
        Line(message);
    }

    /// <summary><c>{"event":"stopped","side":..,"streams":..,"failed":..,"bytesUp":..,"bytesDown":..}</c>; up is accepted side → dialed side.</summary>
    public string StopLine(TunnelSide side)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            json.WriteStartObject();
            json.WriteString("event", "stopped");
            json.WriteString("side", side == TunnelSide.Server ? "server" : "client");
            json.WriteNumber("streams", Interlocked.Read(ref _streams));
            json.WriteNumber("failed", Interlocked.Read(ref _failed));
            json.WriteNumber("bytesUp", Interlocked.Read(ref _up));
            json.WriteNumber("bytesDown", Interlocked.Read(ref _down));
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.GetBuffer(), 0, (int)stream.Length);
    }
}
