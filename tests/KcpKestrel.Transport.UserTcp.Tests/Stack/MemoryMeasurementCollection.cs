namespace KcpKestrel.Transport.UserTcp.Tests.Stack;

/// <summary>
/// Tests that read GC.GetTotalMemory: the heap is the process's, so they run alone, after every parallel test,
/// or another test's allocations would be counted as theirs.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MemoryMeasurementCollection
{
    public const string Name = "Memory measurement";
}
