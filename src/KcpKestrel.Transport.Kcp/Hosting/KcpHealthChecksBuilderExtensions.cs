using KcpKestrel.Transport.Kcp.Diagnostics;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the KCP transport's health check.</summary>
public static class KcpHealthChecksBuilderExtensions
{
    /// <summary>
    /// Reports the KCP listeners (needs <c>UseKcp</c>): Healthy while each bound endpoint accepts with
    /// room to spare; Degraded above 90% of MaxSessions or of the accept queue;
    /// <paramref name="failureStatus"/> when no KCP endpoint is bound, one stopped accepting, or the host
    /// is stopping (from <c>IHostApplicationLifetime.ApplicationStopping</c>, before Kestrel unbinds).
    /// The result's data holds each endpoint's sessions, limits, cipher and FEC.
    /// </summary>
    /// <param name="builder">The health checks builder.</param>
    /// <param name="name">Name of the check.</param>
    /// <param name="failureStatus">Status reported on failure (Unhealthy when null).</param>
    /// <param name="tags">Tags for filtering (for example "ready").</param>
    /// <returns>The builder.</returns>
    public static IHealthChecksBuilder AddKcp(
        this IHealthChecksBuilder builder,
        string name = "kcp",
        HealthStatus? failureStatus = null,
        IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Add(new HealthCheckRegistration(
            name,
            static services => ActivatorUtilities.CreateInstance<KcpHealthCheck>(services),
            failureStatus,
            tags));
    }
}
