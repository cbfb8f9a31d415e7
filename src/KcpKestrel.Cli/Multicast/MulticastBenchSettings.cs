using KcpKestrel.Multicast;

namespace KcpKestrel.Cli.Multicast;

/// <summary>What <c>multicast bench</c> runs, as parsed from its flags.</summary>
/// <param name="NewOptions">A fresh options object per transport (group, interface, node, tuning as given).</param>
/// <param name="Topic">The topic measured; pingpong answers on the next one.</param>
/// <param name="Count">Messages (throughput) or measured round trips (pingpong).</param>
/// <param name="Size">Bytes per message.</param>
/// <param name="Subscribers">Subscriber processes (throughput).</param>
/// <param name="Drop">Diagnostic loss at every subscriber.</param>
/// <param name="Seed">Seed of the first subscriber's loss; the next ones take the following seeds.</param>
/// <param name="Limit">The whole run's time limit.</param>
/// <param name="SubscriberArguments">The flags every <c>multicast sub</c> process gets (group, interface, topic, count, tuning).</param>
internal sealed record MulticastBenchSettings(
    Func<MulticastOptions> NewOptions,
    byte Topic,
    long Count,
    int Size,
    int Subscribers,
    double Drop,
    int Seed,
    TimeSpan Limit,
    IReadOnlyList<string> SubscriberArguments);
