using Microsoft.AspNetCore.Connections;

namespace KcpKestrel.Middleware.Internal;

/// <summary>
/// Why a connection ended, shared by the middlewares on it whatever their order: the first
/// middleware that knows (a timeout, a limit) sets it; metrics and logging read it at close.
/// </summary>
internal sealed class ConnectionCloseReasonFeature
{
    private string? _reason;

    public string? Reason => Volatile.Read(ref _reason);

    /// <summary>Records <paramref name="reason"/> unless one is already set (the first cause wins).</summary>
    public bool TrySet(string reason) => Interlocked.CompareExchange(ref _reason, reason, null) is null;

    /// <summary>Gets the connection's feature, adding it on first use (middlewares run in sequence at open, so no race).</summary>
    public static ConnectionCloseReasonFeature GetOrAdd(ConnectionContext context)
    {
        var feature = context.Features.Get<ConnectionCloseReasonFeature>();
        if (feature is null)
        {
            feature = new ConnectionCloseReasonFeature();
            context.Features.Set(feature);
        }

        return feature;
    }
}
