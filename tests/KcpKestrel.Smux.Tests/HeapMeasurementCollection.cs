namespace KcpKestrel.Smux.Tests;

/// <summary>
/// Tests that measure memory: the whole managed heap (GC.GetTotalMemory), where other tests' live objects would read as
/// theirs, or a thread's allocations, which a busy thread pool perturbs (its queues grow). They run alone.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HeapMeasurementCollection
{
    public const string Name = "Heap measurements";
}
