namespace KcpKestrel.Relay;

/// <summary>What a relay did in one direction.</summary>
internal sealed class RelayCounters
{
    public long Received;
    public long Forwarded;
    public long Dropped;
    public long Duplicated;
    public long Corrupted;
    public long Reordered;

    public override string ToString() =>
        $"received={Volatile.Read(ref Received)} forwarded={Volatile.Read(ref Forwarded)} dropped={Volatile.Read(ref Dropped)} " +
        $"duplicated={Volatile.Read(ref Duplicated)} corrupted={Volatile.Read(ref Corrupted)} reordered={Volatile.Read(ref Reordered)}";
}
