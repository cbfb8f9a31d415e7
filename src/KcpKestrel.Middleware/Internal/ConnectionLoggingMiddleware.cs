using KcpKestrel.Middleware.Pipes;
using KcpKestrel.Transport.Kcp;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace KcpKestrel.Middleware.Internal;

/// <summary>Open and close lines per connection; a bounded hex dump at Trace when asked for (the pipes are not wrapped otherwise).</summary>
internal sealed class ConnectionLoggingMiddleware(ConnectionDelegate next, ConnectionLoggingOptions options, ILogger logger, ConnectionTags tags, TimeProvider timeProvider)
{
    public async Task OnConnectionAsync(ConnectionContext context)
    {
        var start = timeProvider.GetTimestamp();
        var reason = ConnectionCloseReasonFeature.GetOrAdd(context);
        var kcp = context.Features.Get<IKcpSessionFeature>();
        var remote = context.RemoteEndPoint?.ToString() ?? "unknown";
        if (logger.IsEnabled(LogLevel.Information))
        {
            var endpoint = tags.Endpoint(context);
            ConnectionLog.Opened(logger, context.ConnectionId, remote, kcp is null ? ConnectionTags.Tcp : ConnectionTags.Kcp, endpoint);
        }

        HexDumpObserver? dump = null;
        ObservedDuplexPipe? observed = null;
        if (options.HexDumpBytes > 0 && logger.IsEnabled(LogLevel.Trace))
        {
            dump = new HexDumpObserver(logger, context.ConnectionId, options.HexDumpBytes);
            observed = ObservedDuplexPipe.Attach(context, dump, timeProvider);
        }

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
            if (observed is not null)
            {
                observed.Detach(context, dump!);
            }

            if (logger.IsEnabled(LogLevel.Information))
            {
                var durationMs = timeProvider.GetElapsedTime(start).TotalMilliseconds;
                var why = CloseReasons.Resolve(reason, kcp);
                ConnectionLog.Closed(logger, context.ConnectionId, remote, durationMs, why);
            }
        }
    }
}
