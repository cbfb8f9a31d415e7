using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection;

namespace KcpKestrel.Middleware.Internal;

/// <summary>
/// The "KcpKestrel.Connections" meter and its instruments, one set per <see cref="IMeterFactory"/>
/// (so per host), shared by every connection middleware of that host.
/// </summary>
internal sealed class ConnectionInstruments
{
    public const string MeterName = "KcpKestrel.Connections";

    private static readonly ConditionalWeakTable<object, ConnectionInstruments> s_byFactory = [];
    private static readonly object s_noFactory = new();

    private ConnectionInstruments(Meter meter)
    {
        Refused = meter.CreateCounter<long>("kcpkestrel.connections.refused", "{connection}", "Connections closed at once by a limit or filter, by reason.");
        Active = meter.CreateUpDownCounter<long>("kcpkestrel.connections.active", "{connection}", "Connections open through the metrics middleware.");
        Duration = meter.CreateHistogram<double>("kcpkestrel.connection.duration", "s", "How long each connection lived, by close reason.");
        BytesReceived = meter.CreateCounter<long>("kcpkestrel.connection.bytes_received", "By", "Bytes received from peers (as the app's transport sees them).");
        BytesSent = meter.CreateCounter<long>("kcpkestrel.connection.bytes_sent", "By", "Bytes written for peers (as the app's transport sees them).");
        KcpSmoothedRtt = meter.CreateHistogram<double>("kcpkestrel.kcp.smoothed_rtt", "ms", "KCP smoothed round-trip time of each session at close.");
        KcpRetransmissions = meter.CreateCounter<long>("kcpkestrel.kcp.retransmissions", "{segment}", "KCP segments retransmitted (fast, early and timeout), counted at session close.");
        KcpFecRecovered = meter.CreateCounter<long>("kcpkestrel.kcp.fec_recovered", "{shard}", "Data shards rebuilt from FEC parity, counted at session close.");
    }

    public Counter<long> Refused { get; }

    public UpDownCounter<long> Active { get; }

    public Histogram<double> Duration { get; }

    public Counter<long> BytesReceived { get; }

    public Counter<long> BytesSent { get; }

    public Histogram<double> KcpSmoothedRtt { get; }

    public Counter<long> KcpRetransmissions { get; }

    public Counter<long> KcpFecRecovered { get; }

    public static ConnectionInstruments Get(IServiceProvider services)
    {
        var factory = services.GetService<IMeterFactory>();
        return s_byFactory.GetValue(
            (object?)factory ?? s_noFactory,
            static key => new ConnectionInstruments(key is IMeterFactory f ? f.Create(new MeterOptions(MeterName)) : new Meter(MeterName)));
    }

    /// <summary>Closes a refused connection at once and counts it.</summary>
    public void Refuse(ConnectionContext context, ConnectionTags tags, string reason, string message)
    {
        ConnectionCloseReasonFeature.GetOrAdd(context).TrySet(reason);

        // Counted before the abort: whoever sees the connection close must also find it counted.
        var tagList = new TagList
        {
            { "transport", ConnectionTags.Transport(context) },
            { "endpoint", tags.Endpoint(context) },
            { "reason", reason },
        };
        Refused.Add(1, tagList);
        context.Abort(new ConnectionAbortedException(message));
    }
}
