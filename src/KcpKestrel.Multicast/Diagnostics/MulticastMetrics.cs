using System.Diagnostics.Metrics;

namespace KcpKestrel.Multicast.Diagnostics;

/// <summary>
/// The multicast instruments on the <c>KcpKestrel</c> meter. All are observable: their callbacks read
/// the counters the protocol core keeps anyway, for each live transport, when a collector asks, so
/// publishing and receiving pay nothing for metrics. Each measurement is tagged with the group.
/// </summary>
internal sealed class MulticastMetrics : IDisposable
{
    /// <summary>The meter the KCP transport uses too (dotnet-counters, OpenTelemetry's AddMeter).</summary>
    public const string MeterName = "KcpKestrel";

    public const string GroupTag = "group";

    private const string Prefix = "kcpkestrel.multicast.";

    private static readonly Lazy<MulticastMetrics> SharedMetrics = new(() => new MulticastMetrics(null));

    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly Lock _lock = new();
    private MulticastTransport[] _transports = [];

    /// <param name="meterFactory">The host's factory; null: a meter of this process's own.</param>
    public MulticastMetrics(IMeterFactory? meterFactory)
    {
        var version = typeof(MulticastMetrics).Assembly.GetName().Version?.ToString();
        if (meterFactory is not null)
        {
            _meter = meterFactory.Create(new MeterOptions(MeterName) { Version = version });
        }
        else
        {
            _meter = new Meter(MeterName, version);
            _ownsMeter = true;
        }

        Counter("messages.sent", "{message}", "Messages offered and put into packets by the publishers.", static t => t.PublisherCounters?.Messages ?? 0);
        Counter("messages.received", "{message}", "Messages delivered to the receiver (subscribed topics, reassembled).", static t => t.SubscriberCounters?.Messages ?? 0);
        Counter("packets.sent", "{packet}", "Data packets sent (first transmissions).", static t => t.PublisherCounters?.Packets ?? 0);
        Counter("packets.received", "{packet}", "Data packets received from publishers (duplicates included).", static t => t.SubscriberCounters?.Packets ?? 0);
        Counter("packets.duplicate", "{packet}", "Data packets already delivered or buffered.", static t => t.SubscriberCounters?.Duplicates ?? 0);
        Counter("packets.dropped", "{packet}", "Datagrams dropped: malformed, aimed at another node, or from publishers past MaxPublishers.", static t => (t.SubscriberCounters?.Dropped ?? 0) + (t.PublisherCounters?.Dropped ?? 0));
        Counter("naks.sent", "{nak}", "Retransmission requests the subscriber sent.", static t => t.SubscriberCounters?.NaksSent ?? 0);
        Counter("naks.served", "{nak}", "Retransmission requests the publisher received and answered (resent, suppressed or Gone).", static t => t.PublisherCounters?.NaksReceived ?? 0);
        Counter("retransmits", "{packet}", "Packets the publisher sent again for a NAK.", static t => t.PublisherCounters?.Retransmits ?? 0);
        Counter("gaps.unrecoverable", "{gap}", "Gaps that left the publisher's history before they were repaired (their messages are lost).", static t => t.SubscriberCounters?.Unrecoverable ?? 0);
        Counter("rate_limit.waits", "{offer}", "Offers the rate limit refused (TryOffer returned false, or Offer waited).", static t => t.PublisherCounters?.RateLimited ?? 0);
        Counter("repair.waits", "{offer}", "Offers refused because the next packet would overwrite one a NAK asked for within RepairHold (TryOffer returned false, or Offer waited).", static t => t.PublisherCounters?.RepairWaits ?? 0);
        Counter("congestion.waits", "{offer}", "Offers refused because NAKs for bursts of consecutive packets lowered the send rate (CongestionControl).", static t => t.PublisherCounters?.CongestionWaits ?? 0);
        Counter("publishers.gone", "{publisher}", "Publishers silent past PublisherTimeout.", static t => t.SubscriberCounters?.PublishersGone ?? 0);
        Counter("send.errors", "{datagram}", "Datagrams the kernel refused to send (a full send buffer); NAKs repair them.", static t => t.SendErrors);
        Counter("packets.forged", "{datagram}", "Datagrams whose AEAD tag did not verify (forged, corrupt, wrong key); dropped.", static t => t.CodecCounters?.ForgedDropped ?? 0);
        Counter("packets.replayed", "{datagram}", "Authentic datagrams refused as replays (nonce seen, too old, outside the clock skew) or from senders past MaxSenders.", static t => (t.CodecCounters?.ReplaysDropped ?? 0) + (t.CodecCounters?.SendersRefused ?? 0));
        Counter("fec.recovered", "{packet}", "Data packets rebuilt from FEC parity instead of being NAKed.", static t => t.CodecCounters?.FecRecovered ?? 0);
        Counter("fec.parity_sent", "{packet}", "FEC parity packets sent.", static t => t.CodecCounters?.ParitySent ?? 0);
        Counter("receive.callback_errors", "{exception}", "Exceptions thrown by the receiver's callbacks on the receive thread.", static t => t.CallbackErrors);
    }

    /// <summary>The metrics of transports built without a host (their own meter, created on first use).</summary>
    public static MulticastMetrics Shared => SharedMetrics.Value;

    public Meter Meter => _meter;

    public void Add(MulticastTransport transport)
    {
        lock (_lock)
        {
            _transports = [.. _transports, transport];
        }
    }

    public void Remove(MulticastTransport transport)
    {
        lock (_lock)
        {
            _transports = Array.FindAll(_transports, t => t != transport);
        }
    }

    public void Dispose()
    {
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }

    private void Counter(string name, string unit, string description, Func<MulticastTransport, long> read) =>
        _meter.CreateObservableCounter(Prefix + name, () => Observe(read), unit, description);

    private List<Measurement<long>> Observe(Func<MulticastTransport, long> read)
    {
        var transports = Volatile.Read(ref _transports);
        var result = new List<Measurement<long>>(transports.Length);
        foreach (var transport in transports)
        {
            result.Add(new Measurement<long>(read(transport), transport.GroupTag));
        }

        return result;
    }
}
