using System.Diagnostics.Metrics;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace KcpKestrel.Middleware.Tests;

/// <summary>MetricCollector helpers scoped to one host's IMeterFactory (so parallel tests never see each other's figures).</summary>
public static class MetricsReader
{
    public const string Meter = "KcpKestrel.Connections";

    public static MetricCollector<T> Collect<T>(IServiceProvider services, string instrument)
        where T : struct =>
        new(services.GetRequiredService<IMeterFactory>(), Meter, instrument);

    public static long Sum(MetricCollector<long> collector, string tag, string value, string? reason = null)
    {
        long sum = 0;
        foreach (var m in collector.GetMeasurementSnapshot())
        {
            if (Equals(m.Tags[tag], value) && (reason is null || Equals(m.Tags["reason"], reason)))
            {
                sum += m.Value;
            }
        }

        return sum;
    }
}
