namespace KcpKestrel.Smux.Tests;

/// <summary>Tests that compare the whole managed heap (GC.GetTotalMemory): other tests' live objects would read as theirs, so they run alone.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HeapMeasurementCollection
{
    public const string Name = "Heap measurements";
}
