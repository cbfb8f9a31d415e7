using System.Globalization;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace KcpKestrel.Transport.Kcp.Diagnostics;

/// <summary>
/// Reports the KCP listeners of the host: Healthy while every bound endpoint accepts and has room,
/// Degraded when one holds more than 90% of <see cref="KcpOptions.MaxSessions"/> or of its accept
/// queue, the registration's failure status when none is bound, one stopped accepting, or the host
/// has begun stopping (so a readiness probe takes a draining instance out of rotation from the first
/// moment of its stop, while its listeners still serve the sessions they hold).
/// </summary>
internal sealed class KcpHealthCheck : IHealthCheck
{
    /// <summary>Share of a limit above which the check reports Degraded.</summary>
    public const double DegradedRatio = 0.9;

    private readonly KcpConnectionListenerFactory[] _factories;
    private readonly IHostApplicationLifetime? _lifetime;

    /// <param name="factories">The host's transports; the KCP ones are reported.</param>
    /// <param name="lifetime">
    /// The host's lifetime, when there is a host: its <see cref="IHostApplicationLifetime.ApplicationStopping"/>
    /// fires before Kestrel unbinds (and, with a drain delay, well before), which is when a balancer
    /// that probes must stop sending new clients here.
    /// </param>
    public KcpHealthCheck(IEnumerable<IConnectionListenerFactory> factories, IHostApplicationLifetime? lifetime = null)
    {
        ArgumentNullException.ThrowIfNull(factories);
        var found = new List<KcpConnectionListenerFactory>();
        foreach (var factory in factories)
        {
            if (factory is KcpConnectionListenerFactory kcp)
            {
                found.Add(kcp);
            }
        }

        _factories = [.. found];
        _lifetime = lifetime;
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var data = new Dictionary<string, object>(StringComparer.Ordinal);
        var endpoints = new List<string>();
        var status = HealthStatus.Healthy;
        var problems = new List<string>();
        var totalSessions = 0;

        foreach (var factory in _factories)
        {
            foreach (var listener in factory.Listeners.Listeners)
            {
                var endpoint = listener.LocalEndPoint.ToString()!;
                var options = listener.Options;
                var sessions = listener.SessionCount;
                var queued = listener.AcceptQueueLength;
                endpoints.Add(endpoint);
                totalSessions += sessions;
                data[endpoint] = new Dictionary<string, object>(StringComparer.Ordinal)
                {
                    ["accepting"] = listener.IsAccepting,
                    ["sessions"] = sessions,
                    ["maxSessions"] = options.MaxSessions,
                    ["acceptQueue"] = queued,
                    ["acceptQueueDepth"] = options.AcceptQueueDepth,
                    ["newSessionsPerSecond"] = options.NewSessionsPerSecond,
                    ["ioLoops"] = options.IoLoopCount,
                    ["udpIo"] = listener.UdpIoPath,
                    ["crypt"] = options.Crypt,
                    ["fec"] = string.Create(CultureInfo.InvariantCulture, $"{options.DataShards}/{options.ParityShards}"),
                };

                if (!listener.IsAccepting)
                {
                    status = context.Registration.FailureStatus;
                    problems.Add($"{endpoint} is not accepting new sessions");
                    continue;
                }

                if (sessions > options.MaxSessions * DegradedRatio)
                {
                    status = Worse(status, HealthStatus.Degraded);
                    problems.Add(string.Create(CultureInfo.InvariantCulture, $"{endpoint} holds {sessions} of {options.MaxSessions} sessions"));
                }

                if (queued > options.AcceptQueueDepth * DegradedRatio)
                {
                    status = Worse(status, HealthStatus.Degraded);
                    problems.Add(string.Create(CultureInfo.InvariantCulture, $"{endpoint} has {queued} of {options.AcceptQueueDepth} sessions waiting to be accepted"));
                }
            }
        }

        data["endpoints"] = endpoints.ToArray();
        data["sessions"] = totalSessions;
        var stopping = _lifetime?.ApplicationStopping.IsCancellationRequested == true;
        data["stopping"] = stopping;
        if (stopping)
        {
            // Before "no endpoint bound": a stopping host is not coming back, whatever its listeners' state.
            return Task.FromResult(new HealthCheckResult(
                context.Registration.FailureStatus,
                string.Create(CultureInfo.InvariantCulture, $"The host is stopping; {totalSessions} KCP session(s) still open."),
                data: data));
        }

        if (endpoints.Count == 0)
        {
            return Task.FromResult(new HealthCheckResult(context.Registration.FailureStatus, "No KCP endpoint is bound.", data: data));
        }

        var description = problems.Count == 0
            ? string.Create(CultureInfo.InvariantCulture, $"{endpoints.Count} KCP endpoint(s) bound, {totalSessions} session(s) open.")
            : string.Join("; ", problems) + ".";
        return Task.FromResult(new HealthCheckResult(status, description, data: data));
    }

    private static HealthStatus Worse(HealthStatus a, HealthStatus b) => a < b ? a : b;
}
