namespace KcpKestrel.Tests.Shared;

/// <summary>
/// What a steady-state loop allocates on the calling thread. A one-off allocation (tiered compilation, a runtime
/// cache filled once) may land in any one window, most often when other tests load the machine; an allocation per
/// iteration lands in every window. So the least of a few windows is the figure.
/// </summary>
public static class SteadyStateAllocations
{
    /// <summary>Runs <paramref name="window"/> up to <paramref name="windows"/> times (stopping at one that allocated nothing); the least it allocated.</summary>
    public static long Measure(Action window, int windows = 5)
    {
        var least = long.MaxValue;
        for (var i = 0; i < windows && least != 0; i++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            window();
            least = Math.Min(least, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        return least;
    }
}
