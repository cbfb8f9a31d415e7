using System.Diagnostics;
using System.Globalization;
using Spectre.Console;

namespace KcpKestrel.Cli.Bench;

/// <summary>Live progress of a bench: a Spectre.Console bar on a terminal, a plain line a second otherwise.</summary>
internal sealed class BenchProgress
{
    private long _done;

    public BenchProgress(string label, long total, string unit)
    {
        Label = label;
        Total = total;
        Unit = unit;
    }

    public string Label { get; }

    public long Total { get; }

    /// <summary>"bytes" (shown as MB and MB/s) or a count of things (round trips, messages).</summary>
    public string Unit { get; }

    public long Done => Volatile.Read(ref _done);

    public void Set(long done) => Volatile.Write(ref _done, done);

    public void Add(long count) => Interlocked.Add(ref _done, count);

    public async Task<T> RunAsync<T>(CliIo io, Func<Task<T>> work)
    {
        if (io.Interactive)
        {
            return await AnsiConsole.Progress()
                .AutoClear(true)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                .StartAsync(async context =>
                {
                    var task = context.AddTask(Label, maxValue: Math.Max(1, Total));
                    var running = work();
                    while (!running.IsCompleted)
                    {
                        task.Value = Done;
                        await Task.WhenAny(running, Task.Delay(100)).ConfigureAwait(false);
                    }

                    task.Value = Done;
                    return await running.ConfigureAwait(false);
                }).ConfigureAwait(false);
        }

        var start = Stopwatch.GetTimestamp();
        var job = work();
        while (!job.IsCompleted)
        {
            await Task.WhenAny(job, Task.Delay(1000)).ConfigureAwait(false);
            if (!job.IsCompleted)
            {
                await io.Out.WriteLineAsync(Line(Stopwatch.GetElapsedTime(start).TotalSeconds)).ConfigureAwait(false);
            }
        }

        return await job.ConfigureAwait(false);
    }

    private string Line(double seconds)
    {
        var done = Done;
        if (Unit == "bytes")
        {
            return string.Create(CultureInfo.InvariantCulture, $"progress {Label}: {done / 1e6:F1}/{Total / 1e6:F1} MB {done / 1e6 / Math.Max(seconds, 1e-3):F1} MB/s");
        }

        return string.Create(CultureInfo.InvariantCulture, $"progress {Label}: {done}/{Total} {Unit} after {seconds:F0} s");
    }
}
