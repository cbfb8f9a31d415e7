using System.Diagnostics.Metrics;

namespace KcpKestrel.Transport.Kcp.Diagnostics;

/// <summary>
/// The <c>KcpKestrel</c> meter. Most instruments are observable: their callbacks sum the per-loop
/// counters of the live listeners when a collector asks, so the I/O loops pay nothing for metrics.
/// Only session close records directly (close reason, RTT and duration histograms).
/// The names and their kcp-go SNMP counterparts are in docs/metrics.md.
/// </summary>
internal sealed class KcpMetrics : IDisposable
{
    /// <summary>Name of the meter (for dotnet-counters, OpenTelemetry's AddMeter, MetricCollector).</summary>
    public const string MeterName = "KcpKestrel";

    public const string EndpointTag = "endpoint";
    public const string ReasonTag = "reason";
    public const string KindTag = "kind";

    private static readonly double[] RttBuckets = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000];
    private static readonly double[] DurationBuckets = [0.1, 1, 10, 60, 300, 1800, 3600, 14400, 86400];

    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly KcpListenerRegistry _registry;
    private readonly Counter<long> _sessionsClosed;
    private readonly Histogram<double> _sessionRtt;
    private readonly Histogram<double> _sessionDuration;
    private readonly Counter<long> _smuxSessionsClosed;

    public KcpMetrics(IMeterFactory? meterFactory, KcpListenerRegistry registry)
    {
        _registry = registry;
        var version = typeof(KcpMetrics).Assembly.GetName().Version?.ToString();
        if (meterFactory is not null)
        {
            _meter = meterFactory.Create(new MeterOptions(MeterName) { Version = version });
        }
        else
        {
            _meter = new Meter(MeterName, version);
            _ownsMeter = true;
        }

        _meter.CreateObservableUpDownCounter("kcp.sessions.active", () => PerListener(static l => l.SessionCount), "{session}", "KCP sessions open now (accepted or waiting in the accept queue).");
        _meter.CreateObservableUpDownCounter("kcp.sessions.limit", () => PerListener(static l => l.Options.MaxSessions), "{session}", "MaxSessions of each listener.");
        _meter.CreateObservableCounter("kcp.sessions.accepted", () => PerListenerCounter(static c => c.SessionsAccepted), "{session}", "Sessions opened by new peers and queued for the app.");
        _meter.CreateObservableCounter("kcp.sessions.replaced", () => PerListenerCounter(static c => c.SessionsReplaced), "{session}", "Sessions ended because their peer address started a new conversation.");
        _meter.CreateObservableCounter("kcp.sessions.validated", () => PerListenerCounter(static c => c.SessionsValidated), "{session}", "Sessions whose peer proved its address (acknowledged a segment echoing our timestamp).");
        _meter.CreateObservableCounter("kcp.sessions.unproven_timeouts", () => PerListenerCounter(static c => c.UnprovenTimeouts), "{session}", "Sessions closed silently because their peer never proved its address within UnprovenIdleTimeout.");
        _meter.CreateObservableCounter("kcp.datagrams.retries_sent", () => PerListenerCounter(static c => c.RetriesSent), "{datagram}", "RETRY datagrams (address tokens) sent to sources that had not proven their address (aes-256-gcm, chacha20-poly1305).");
        _meter.CreateObservableCounter("kcp.sessions.migrated", () => PerListenerCounter(static c => c.SessionsMigrated), "{session}", "Sessions moved to a new peer address after its path check succeeded (aes-256-gcm, chacha20-poly1305).");
        _meter.CreateObservableCounter("kcp.path_checks.failed", () => PerListenerCounter(static c => c.PathChecksFailed), "{check}", "Path checks of a new peer address that got no answer in time; the session stayed on its address.");
        _meter.CreateObservableCounter("kcp.datagrams.amplification_limited", () => PerListenerCounter(static c => c.AmplificationLimited), "{datagram}", "Datagrams not sent because an unproven peer had used its AmplificationLimit budget.");
        _meter.CreateObservableUpDownCounter("kcp.memory.receive_held", () => PerListenerCounter(static c => c.ReceiveBytesHeld), "By", "Bytes the listener's sessions hold for their peers (receive buffers, FEC shards, data the app has not read).");
        _meter.CreateObservableUpDownCounter("kcp.memory.receive_budget", () => PerListenerCounter(static c => c.ReceiveBudget), "By", "ListenerReceiveBudget of each listener.");
        _meter.CreateObservableCounter("kcp.sessions.closed_for_memory", () => PerListenerCounter(static c => c.SessionsClosedForMemory), "{session}", "Sessions closed because the listener's receive budget was spent and they held the most of it.");
        _meter.CreateObservableCounter("kcp.sessions.rejected", ObserveRejected, "{session}", "New peers refused, by reason (a subset of kcp.datagrams.dropped).");
        _sessionsClosed = _meter.CreateCounter<long>("kcp.sessions.closed", "{session}", "Accepted sessions that ended, by reason.");
        _sessionRtt = _meter.CreateHistogram("kcp.session.rtt", "ms", "Smoothed round-trip time of each session when it ended.", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = RttBuckets });
        _sessionDuration = _meter.CreateHistogram("kcp.session.duration", "s", "How long each accepted session lasted.", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });

        _meter.CreateObservableCounter("kcp.datagrams.received", () => PerListenerCounter(static c => c.DatagramsReceived), "{datagram}", "UDP datagrams read from the sockets.");
        _meter.CreateObservableCounter("kcp.datagrams.sent", () => PerListenerCounter(static c => c.DatagramsSent), "{datagram}", "UDP datagrams the kernel took.");
        _meter.CreateObservableCounter("kcp.bytes.received", () => PerListenerCounter(static c => c.BytesReceived), "By", "UDP payload bytes read (headers, FEC and cipher overhead included).");
        _meter.CreateObservableCounter("kcp.bytes.sent", () => PerListenerCounter(static c => c.BytesSent), "By", "UDP payload bytes sent.");
        _meter.CreateObservableCounter("kcp.datagrams.dropped", ObserveDropped, "{datagram}", "Datagrams discarded, by reason.");
        _meter.CreateObservableCounter("kcp.io.calls", ObserveSyscalls, "{call}", "recvmmsg and sendmmsg system calls (datagrams per call = batching).");
        _meter.CreateObservableCounter("kcp.io.gso.messages", () => PerListenerCounter(static c => c.GsoMessagesSent), "{message}", "Messages sent with UDP GSO (UDP_SEGMENT), each carrying several datagrams.");
        _meter.CreateObservableCounter("kcp.io.gso.segments", () => PerListenerCounter(static c => c.GsoSegmentsSent), "{datagram}", "Datagrams sent inside UDP GSO messages (÷ kcp.io.gso.messages = segments per send).");
        _meter.CreateObservableCounter("kcp.io.gso.disabled", () => PerListenerCounter(static c => c.GsoDisabled), "{socket}", "Sockets that turned UDP GSO off after the kernel refused a GSO send (its datagrams were resent plainly).");
        _meter.CreateObservableCounter("kcp.io.kernel_drops", () => PerListenerCounter(static c => c.KernelDrops), "{datagram}", "Datagrams the kernel dropped before the loop read them (a full socket receive buffer), from SO_RXQ_OVFL; Linux's native paths only.");
        _meter.CreateObservableUpDownCounter("kcp.io.socket.receive_buffer", () => PerListenerCounter(static c => c.SocketReceiveBuffer), "By", "Effective SO_RCVBUF of the listener's sockets (the smallest), after the kernel's cap: compare with SocketBufferSize.");
        _meter.CreateObservableUpDownCounter("kcp.io.socket.send_buffer", () => PerListenerCounter(static c => c.SocketSendBuffer), "By", "Effective SO_SNDBUF of the listener's sockets (the smallest), after the kernel's cap.");
        _meter.CreateObservableCounter("kcp.io.gro.buffers", () => PerListenerCounter(static c => c.GroReceives), "{buffer}", "Received buffers the kernel had coalesced with UDP GRO.");
        _meter.CreateObservableCounter("kcp.io.gro.segments", () => PerListenerCounter(static c => c.GroSegmentsReceived), "{datagram}", "Datagrams split out of UDP GRO buffers.");

        _meter.CreateObservableCounter("kcp.segments.received", () => PerListenerCounter(static c => c.SegmentsReceived), "{segment}", "KCP segments input, added when each session ends.");
        _meter.CreateObservableCounter("kcp.segments.sent", () => PerListenerCounter(static c => c.SegmentsSent), "{segment}", "KCP segments output, added when each session ends.");
        _meter.CreateObservableCounter("kcp.segments.retransmitted", ObserveRetransmits, "{segment}", "Segments sent again, by kind: fast (duplicate acks), early, timeout.");
        _meter.CreateObservableCounter("kcp.segments.lost", () => PerListenerTotals(static t => t.LostSegments), "{segment}", "Segments inferred lost (timeout retransmissions).");
        _meter.CreateObservableCounter("kcp.segments.duplicate", () => PerListenerTotals(static t => t.DuplicateSegments), "{segment}", "Segments received twice.");
        _meter.CreateObservableCounter("kcp.input.errors", () => PerListenerCounter(static c => c.KcpInputErrors), "{datagram}", "Datagrams KCP's input refused after decryption (bad segment headers).");
        _meter.CreateObservableCounter("kcp.fec.recovered", () => PerListenerCounter(static c => c.FecRecovered), "{shard}", "Data shards rebuilt from Reed-Solomon parity.");
        _meter.CreateObservableCounter("kcp.fec.parity_received", () => PerListenerCounter(static c => c.FecParityShardsReceived), "{shard}", "FEC parity shards received, added when each session ends.");
        _meter.CreateObservableCounter("kcp.fec.short_groups", () => PerListenerCounter(static c => c.FecShortGroups), "{group}", "FEC groups that expired with too few shards to rebuild, added when each session ends.");
        _meter.CreateObservableCounter("kcp.fec.failed", () => PerListenerCounter(static c => c.FecFailedReconstructs), "{group}", "FEC reconstructions that failed, added when each session ends.");

        _meter.CreateObservableUpDownCounter("kcp.smux.sessions.active", () => PerSmuxListener(static s => s.SessionsActive), "{session}", "smux sessions running now (KcpMultiplexing.Smux listeners).");
        _meter.CreateObservableUpDownCounter("kcp.smux.streams.active", () => PerSmuxListener(static s => s.StreamsActive), "{stream}", "smux streams open now, in the app or waiting to be accepted.");
        _meter.CreateObservableCounter("kcp.smux.streams.accepted", () => PerSmuxListener(static s => s.StreamsAccepted), "{stream}", "smux streams handed to the app as connections.");
        _meter.CreateObservableCounter("kcp.smux.errors", ObserveSmuxErrors, "{event}", "smux problems, by kind: protocol_error, keepalive_timeout, stream_refused, stream_reset, frame_ignored.");
        _smuxSessionsClosed = _meter.CreateCounter<long>("kcp.smux.sessions.closed", "{session}", "smux sessions that ended, by reason.");

        _meter.CreateObservableUpDownCounter("kcp.queue.send", () => PerListenerTotals(static t => t.SendQueue), "{segment}", "Segments queued to send (not yet in flight), summed over accepted sessions.");
        _meter.CreateObservableUpDownCounter("kcp.queue.receive", () => PerListenerTotals(static t => t.ReceiveQueue), "{segment}", "Segments received and waiting for the app, summed over accepted sessions.");
        _meter.CreateObservableUpDownCounter("kcp.segments.in_flight", () => PerListenerTotals(static t => t.InFlight), "{segment}", "Segments sent and not yet acknowledged, summed over accepted sessions.");
    }

    public Meter Meter => _meter;

    public void RecordSessionClosed(KeyValuePair<string, object?> endpoint, KcpCloseReason reason, KcpSessionStatistics stats, TimeSpan duration)
    {
        _sessionsClosed.Add(1, endpoint, new KeyValuePair<string, object?>(ReasonTag, ReasonName(reason)));
        if (stats.SmoothedRtt > 0)
        {
            // Sessions that never measured a round trip (no data acknowledged) would read 0 ms.
            _sessionRtt.Record(stats.SmoothedRtt, endpoint);
        }

        _sessionDuration.Record(duration.TotalSeconds, endpoint);
    }

    public void RecordSmuxSessionClosed(KeyValuePair<string, object?> endpoint, string reason) =>
        _smuxSessionsClosed.Add(1, endpoint, new KeyValuePair<string, object?>(ReasonTag, reason));

    public void Dispose()
    {
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }

    internal static string ReasonName(KcpCloseReason reason) => reason switch
    {
        KcpCloseReason.LocalClose => "local_close",
        KcpCloseReason.RemoteClose => "remote_close",
        KcpCloseReason.Aborted => "aborted",
        KcpCloseReason.IdleTimeout => "idle_timeout",
        KcpCloseReason.DeadLink => "dead_link",
        KcpCloseReason.Replaced => "replaced",
        KcpCloseReason.Shutdown => "shutdown",
        KcpCloseReason.MemoryPressure => "memory_pressure",
        _ => "none",
    };

    private List<Measurement<long>> PerListener(Func<IKcpListenerState, long> read)
    {
        var listeners = _registry.Listeners;
        var result = new List<Measurement<long>>(listeners.Length);
        foreach (var listener in listeners)
        {
            result.Add(new Measurement<long>(read(listener), listener.Diagnostics.EndpointTag));
        }

        return result;
    }

    private List<Measurement<long>> PerListenerCounter(Func<KcpTransportCounters, long> read)
    {
        var listeners = _registry.Listeners;
        var result = new List<Measurement<long>>(listeners.Length);
        foreach (var listener in listeners)
        {
            result.Add(new Measurement<long>(read(listener.Counters), listener.Diagnostics.EndpointTag));
        }

        return result;
    }

    private List<Measurement<long>> PerSmuxListener(Func<SmuxListenerStats, long> read)
    {
        var result = new List<Measurement<long>>();
        foreach (var listener in _registry.Listeners)
        {
            if (listener.Diagnostics.Smux is { } smux)
            {
                result.Add(new Measurement<long>(read(smux), listener.Diagnostics.EndpointTag));
            }
        }

        return result;
    }

    private List<Measurement<long>> ObserveSmuxErrors()
    {
        var result = new List<Measurement<long>>();
        foreach (var listener in _registry.Listeners)
        {
            if (listener.Diagnostics.Smux is not { } smux)
            {
                continue;
            }

            var e = smux.GetErrors();
            var endpoint = listener.Diagnostics.EndpointTag;
            result.Add(Tagged(e.ProtocolErrors, endpoint, KindTag, "protocol_error"));
            result.Add(Tagged(e.KeepAliveTimeouts, endpoint, KindTag, "keepalive_timeout"));
            result.Add(Tagged(e.StreamsRefused, endpoint, KindTag, "stream_refused"));
            result.Add(Tagged(e.StreamsReset, endpoint, KindTag, "stream_reset"));
            result.Add(Tagged(e.FramesIgnored, endpoint, KindTag, "frame_ignored"));
        }

        return result;
    }

    private List<Measurement<long>> PerListenerTotals(Func<KcpListenerDiagnostics.SessionTotals, long> read)
    {
        var listeners = _registry.Listeners;
        var result = new List<Measurement<long>>(listeners.Length);
        foreach (var listener in listeners)
        {
            result.Add(new Measurement<long>(read(listener.Diagnostics.GetTotals()), listener.Diagnostics.EndpointTag));
        }

        return result;
    }

    private List<Measurement<long>> ObserveRejected() => ObserveReasons(refusalsOnly: true);

    private List<Measurement<long>> ObserveDropped() => ObserveReasons(refusalsOnly: false);

    private List<Measurement<long>> ObserveReasons(bool refusalsOnly)
    {
        var result = new List<Measurement<long>>();
        foreach (var listener in _registry.Listeners)
        {
            var c = listener.Counters;
            var endpoint = listener.Diagnostics.EndpointTag;
            foreach (var reason in KcpDropReason.All)
            {
                if (reason.RefusesPeer || !refusalsOnly)
                {
                    result.Add(Tagged(reason.Read(c), endpoint, ReasonTag, reason.Name));
                }
            }
        }

        return result;
    }

    private List<Measurement<long>> ObserveSyscalls()
    {
        var result = new List<Measurement<long>>();
        foreach (var listener in _registry.Listeners)
        {
            var c = listener.Counters;
            var endpoint = listener.Diagnostics.EndpointTag;
            result.Add(Tagged(c.ReceiveCalls, endpoint, "call", "recvmmsg"));
            result.Add(Tagged(c.SendCalls, endpoint, "call", "sendmmsg"));
        }

        return result;
    }

    private List<Measurement<long>> ObserveRetransmits()
    {
        var result = new List<Measurement<long>>();
        foreach (var listener in _registry.Listeners)
        {
            var t = listener.Diagnostics.GetTotals();
            var endpoint = listener.Diagnostics.EndpointTag;
            result.Add(Tagged(t.FastRetransmits, endpoint, KindTag, "fast"));
            result.Add(Tagged(t.EarlyRetransmits, endpoint, KindTag, "early"));
            result.Add(Tagged(t.TimeoutRetransmits, endpoint, KindTag, "timeout"));
        }

        return result;
    }

    private static Measurement<long> Tagged(long value, KeyValuePair<string, object?> endpoint, string key, string tag) =>
        new(value, endpoint, new KeyValuePair<string, object?>(key, tag));
}
