using KcpKestrel.Middleware.Pipes;
using Microsoft.AspNetCore.Connections;

namespace KcpKestrel.Middleware.Internal;

/// <summary>Closes connections idle (no input) past a limit or alive past a maximum lifetime, with a clear reason.</summary>
internal sealed class ConnectionTimeoutMiddleware(ConnectionDelegate next, ConnectionTimeoutOptions options, TimeProvider timeProvider)
{
    public async Task OnConnectionAsync(ConnectionContext context)
    {
        var reason = ConnectionCloseReasonFeature.GetOrAdd(context);
        using var watch = new ConnectionTimeoutWatch(context, reason, options.IdleTimeout, options.MaxLifetime, timeProvider);
        var observed = options.IdleTimeout != Timeout.InfiniteTimeSpan
            ? ObservedDuplexPipe.Attach(context, watch, timeProvider, observeInput: true, observeOutput: false)
            : null;

        try
        {
            await next(context).ConfigureAwait(false);
        }
        finally
        {
            observed?.Detach(context, watch);
        }
    }
}
