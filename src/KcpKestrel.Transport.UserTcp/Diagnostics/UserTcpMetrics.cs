using System.Diagnostics.Metrics;
using KcpKestrel.Transport.UserTcp.Io;
using KcpKestrel.Transport.UserTcp.Packets;
using KcpKestrel.Transport.UserTcp.Tcp;

namespace KcpKestrel.Transport.UserTcp.Diagnostics;

/// <summary>
/// The <c>KcpKestrel.UserTcp</c> meter: connections opened, active and closed by reason, and per connection at its
/// close its smoothed RTT, retransmits and bytes (the per-stream figures); the loops' packet and TCP counters (bytes,
/// segments, retransmits, drops by reason) as observable counters read when a listener collects.
/// </summary>
internal sealed class UserTcpMetrics : IDisposable
{
    public const string MeterName = "KcpKestrel.UserTcp";

    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly Counter<long> _opened;
    private readonly Counter<long> _closed;
    private readonly UpDownCounter<long> _active;
    private readonly Histogram<int> _srtt;
    private readonly Histogram<long> _retransmits;
    private readonly Histogram<long> _bytesIn;
    private readonly Histogram<long> _bytesOut;
    private readonly object _lock = new();
    private UserTcpRuntime[] _runtimes = [];

    public UserTcpMetrics(IMeterFactory? meterFactory)
    {
        _ownsMeter = meterFactory is null;
        _meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        _opened = _meter.CreateCounter<long>("usertcp.connections.opened", "{connection}", "Connections handed to the app");
        _closed = _meter.CreateCounter<long>("usertcp.connections.closed", "{connection}", "Connections ended, by reason (closed, reset, aborted, timed_out, keepalive_timed_out, refused, shutdown)");
        _active = _meter.CreateUpDownCounter<long>("usertcp.connections.active", "{connection}", "Connections open now");
        _srtt = _meter.CreateHistogram<int>("usertcp.connection.srtt", "ms", "Each connection's smoothed RTT at its close");
        _retransmits = _meter.CreateHistogram<long>("usertcp.connection.retransmits", "{segment}", "Each connection's retransmitted segments at its close");
        _bytesIn = _meter.CreateHistogram<long>("usertcp.connection.bytes_in", "By", "Bytes each connection received");
        _bytesOut = _meter.CreateHistogram<long>("usertcp.connection.bytes_out", "By", "Bytes each connection sent");

        _meter.CreateObservableCounter("usertcp.packets.in", () => Sum(static (p, _) => p.PacketsIn), "{packet}", "IP packets read from the source");
        _meter.CreateObservableCounter("usertcp.packets.out", () => Sum(static (p, _) => p.PacketsOut), "{packet}", "IP packets written to the source");
        _meter.CreateObservableCounter("usertcp.bytes.in", () => Sum(static (_, t) => t.BytesReceived), "By", "TCP payload bytes received");
        _meter.CreateObservableCounter("usertcp.bytes.out", () => Sum(static (_, t) => t.BytesSent), "By", "TCP payload bytes sent");
        _meter.CreateObservableCounter("usertcp.segments.retransmitted", () => Sum(static (_, t) => t.Retransmits), "{segment}", "Segments sent again");
        _meter.CreateObservableCounter("usertcp.packets.dropped", ObserveDrops, "{packet}", "Packets and segments dropped, by reason");
    }

    /// <summary>Starts observing a runtime's loops (a listener once bound, a connection factory once started).</summary>
    public void Add(UserTcpRuntime runtime)
    {
        lock (_lock)
        {
            _runtimes = [.. _runtimes, runtime];
        }
    }

    /// <summary>A connection was handed to the app.</summary>
    public void OnOpened()
    {
        _opened.Add(1);
        _active.Add(1);
    }

    /// <summary>A connection ended: counts it and records its per-stream figures.</summary>
    public void OnClosed(TcpCloseReason reason, in TcpConnectionStatistics statistics)
    {
        var tag = new KeyValuePair<string, object?>("reason", UserTcpDropReasons.NameOf(reason));
        _closed.Add(1, tag);
        _active.Add(-1);
        _srtt.Record(statistics.SmoothedRttMs);
        _retransmits.Record(statistics.Retransmits);
        _bytesIn.Record(statistics.BytesReceived);
        _bytesOut.Record(statistics.BytesSent);
    }

    private long Sum(Func<PacketCounters, TcpCounters, long> read)
    {
        long total = 0;
        foreach (var runtime in Volatile.Read(ref _runtimes))
        {
            foreach (var loop in runtime.Loops)
            {
                total += read(loop.PacketCounters, loop.TcpCounters);
            }
        }

        return total;
    }

    private IEnumerable<Measurement<long>> ObserveDrops()
    {
        var measurements = new List<Measurement<long>>(UserTcpDropReasons.All.Count);
        foreach (var reason in UserTcpDropReasons.All)
        {
            var read = reason.Read;
            measurements.Add(new Measurement<long>(Sum(read), new KeyValuePair<string, object?>("reason", reason.Name)));
        }

        return measurements;
    }

    public void Dispose()
    {
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }
}
