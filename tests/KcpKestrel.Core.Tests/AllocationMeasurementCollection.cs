namespace KcpKestrel.Core.Tests;

/// <summary>
/// Tests that count this thread's allocations around code that rents from ArrayPool.Shared. Run in
/// parallel with the rest, other tests drain the shared pool's per-core stores and a rent then allocates,
/// which reads as a leak that is not ours: these classes run on their own.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AllocationMeasurementCollection
{
    public const string Name = "Allocation measurements";
}
