using KcpKestrel.Transport.Kcp;
using Microsoft.AspNetCore.Connections;

namespace KcpKestrel.Middleware.Internal;

/// <summary>The close-reason vocabulary shared by metrics and logs (snake_case, low cardinality).</summary>
internal static class CloseReasons
{
    public const string IdleTimeout = "idle_timeout";
    public const string LifetimeExceeded = "lifetime_exceeded";
    public const string RateLimited = "rate_limited";
    public const string ConcurrencyLimited = "concurrency_limited";
    public const string AddressDenied = "address_denied";
    public const string Completed = "completed";
    public const string Aborted = "aborted";
    public const string Reset = "reset";
    public const string Error = "error";

    /// <summary>Records the reason an exception leaving the pipeline implies; always false so it can sit in an exception filter.</summary>
    public static bool RecordException(ConnectionCloseReasonFeature feature, Exception exception)
    {
        feature.TrySet(exception switch
        {
            ConnectionResetException => Reset,
            ConnectionAbortedException or OperationCanceledException => Aborted,
            _ => Error,
        });
        return false;
    }

    /// <summary>The reason to report at close: what a middleware recorded, else what KCP saw, else a normal end.</summary>
    public static string Resolve(ConnectionCloseReasonFeature feature, IKcpSessionFeature? kcp)
    {
        if (feature.Reason is { } reason)
        {
            return reason;
        }

        return kcp?.CloseReason switch
        {
            null or KcpCloseReason.None => Completed,
            KcpCloseReason.LocalClose => "local_close",
            KcpCloseReason.RemoteClose => "remote_close",
            KcpCloseReason.Aborted => Aborted,
            KcpCloseReason.IdleTimeout => "kcp_idle_timeout",
            KcpCloseReason.DeadLink => "dead_link",
            KcpCloseReason.Replaced => "replaced",
            KcpCloseReason.Shutdown => "shutdown",
            KcpCloseReason.MemoryPressure => "memory_pressure",
            _ => Completed,
        };
    }
}
