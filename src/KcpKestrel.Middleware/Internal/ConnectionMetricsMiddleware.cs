using System.Diagnostics;
using KcpKestrel.Middleware.Pipes;
using KcpKestrel.Transport.Kcp;
using Microsoft.AspNetCore.Connections;

namespace KcpKestrel.Middleware.Internal;

/// <summary>Per-connection duration, bytes each way and close reason; on KCP the session figures at close.</summary>
internal sealed class ConnectionMetricsMiddleware(ConnectionDelegate next, ConnectionMetricsOptions options, ConnectionInstruments instruments, ConnectionTags tags, TimeProvider timeProvider)
{
    public async Task OnConnectionAsync(ConnectionContext context)
    {
        var start = timeProvider.GetTimestamp();
        var reason = ConnectionCloseReasonFeature.GetOrAdd(context);
        var kcp = context.Features.Get<IKcpSessionFeature>();
        var baseTags = new TagList
        {
            { "transport", kcp is null ? ConnectionTags.Tcp : ConnectionTags.Kcp },
            { "endpoint", tags.Endpoint(context) },
        };
        var counts = new ByteCountObserver();
        var observed = ObservedDuplexPipe.Attach(context, counts, timeProvider);
        instruments.Active.Add(1, baseTags);
        try
        {
            await next(context).ConfigureAwait(false);
        }
        catch (Exception ex) when (CloseReasons.RecordException(reason, ex))
        {
            throw;
        }
        finally
        {
            observed.Detach(context, counts);
            instruments.Active.Add(-1, baseTags);
            instruments.BytesReceived.Add(counts.Received, baseTags);
            instruments.BytesSent.Add(counts.Sent, baseTags);
            var closeTags = baseTags;
            closeTags.Add("reason", CloseReasons.Resolve(reason, kcp));
            if (kcp is not null && options.RecordKcpSessionStatistics)
            {
                var stats = kcp.GetStatistics();
                instruments.KcpSmoothedRtt.Record(stats.SmoothedRtt, baseTags);
                instruments.KcpRetransmissions.Add(stats.FastRetransmits + stats.EarlyRetransmits + stats.TimeoutRetransmits, baseTags);
                instruments.KcpFecRecovered.Add(stats.FecRecovered, baseTags);
            }

            // The duration last: a listener that sees a connection's duration sees all its other figures too.
            instruments.Duration.Record(timeProvider.GetElapsedTime(start).TotalSeconds, closeTags);
        }
    }
}
