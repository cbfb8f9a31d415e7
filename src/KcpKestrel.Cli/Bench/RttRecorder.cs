using System.Diagnostics;

namespace KcpKestrel.Cli.Bench;

/// <summary>Round-trip times in microseconds; percentiles picked as the Go peer picks them.</summary>
internal sealed class RttRecorder
{
    private readonly List<double> _samples;
    private readonly Lock _lock = new();

    public RttRecorder(int capacity = 1024) => _samples = new List<double>(capacity);

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _samples.Count;
            }
        }
    }

    public void Add(long startTimestamp) => AddMicroseconds(Stopwatch.GetElapsedTime(startTimestamp).TotalMicroseconds);

    public void AddMicroseconds(double microseconds)
    {
        lock (_lock)
        {
            _samples.Add(microseconds);
        }
    }

    public void AddRange(RttRecorder other)
    {
        double[] copy;
        lock (other._lock)
        {
            copy = [.. other._samples];
        }

        lock (_lock)
        {
            _samples.AddRange(copy);
        }
    }

    public (double P50, double P99) Percentiles()
    {
        var summary = Summary();
        return (summary.P50, summary.P99);
    }

    /// <summary>Mean, percentiles and maximum, rounded to 0.1 µs; all 0 without samples.</summary>
    public RttSummary Summary()
    {
        double[] sorted;
        lock (_lock)
        {
            sorted = [.. _samples];
        }

        if (sorted.Length == 0)
        {
            return default;
        }

        Array.Sort(sorted);
        double At(int perMille) => Math.Round(sorted[Math.Min(sorted.Length - 1, (int)((long)sorted.Length * perMille / 1000))], 1);
        return new RttSummary(sorted.Length, Math.Round(sorted.Average(), 1), At(500), At(900), At(990), At(999), Math.Round(sorted[^1], 1));
    }
}
