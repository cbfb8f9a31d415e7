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
        double[] sorted;
        lock (_lock)
        {
            sorted = [.. _samples];
        }

        if (sorted.Length == 0)
        {
            return (0, 0);
        }

        Array.Sort(sorted);
        return (Math.Round(sorted[sorted.Length / 2], 1), Math.Round(sorted[sorted.Length * 99 / 100], 1));
    }
}
