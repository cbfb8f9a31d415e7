using KcpKestrel.Multicast.Tests.Harness;

namespace KcpKestrel.Multicast.Tests.EndToEnd;

/// <summary>
/// A publisher with no rate limit offering far faster than its subscribers read, behind a bounded
/// receive queue (a socket buffer) and seeded loss: the repair holds pace it, nothing is lost.
/// </summary>
public sealed class SlowSubscriberTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const int Messages = 100_000;

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 3)]
    [InlineData(3, 1)]
    [InlineData(4, 2)]
    [InlineData(5, 1)]
    public void UnpacedPublisher_FivePercentLossAndAFullQueue_EveryMessageArrivesOnceInOrder(int seed, int subscribers)
    {
        var network = SlowNetwork(new MulticastOptions { HistoryPackets = 1024 }, subscribers, seed);
        OfferAllAsFastAsAccepted(network);

        network.RunUntilDelivered(Messages, maxMicros: 60_000_000);
        var counters = network.Publisher.Counters;
        output.WriteLine($"{counters.Packets} packets, {counters.Retransmits} retransmits, {counters.RepairWaits} repair waits, {counters.NaksGone} gone, {network.Now} µs simulated");
        for (var s = 0; s < network.Count; s++)
        {
            var receiver = network.Receiver(s);
            Assert.Equal((Messages, 0, 0, 0, 0L), (receiver.InOrder, receiver.Duplicates, receiver.OutOfOrder, receiver.Corrupt, receiver.Unrecoverable));
        }

        Assert.True(counters.RepairWaits > 0);
        Assert.True(network.Down(0).Dropped > Messages / 400, "the queue overflowed and the drop filter dropped");
    }

    [Fact]
    public void UnpacedPublisher_WithoutRepairHold_LosesMessagesToItsHistory()
    {
        // The same run with the hold off: the ring overwrites packets before their repair lands.
        var network = SlowNetwork(new MulticastOptions { HistoryPackets = 1024, RepairHold = TimeSpan.Zero }, subscribers: 1, seed: 1);
        OfferAllAsFastAsAccepted(network);
        for (var i = 0; i < 100_000; i++)
        {
            network.Step();
        }

        Assert.True(network.Receiver(0).Unrecoverable > 0);
    }

    private static MulticastNetwork SlowNetwork(MulticastOptions options, int subscribers, int seed)
    {
        // Each subscriber reads 2 datagrams per 50 µs step (40k/s) from a queue of 100; the publisher
        // offers up to 200 messages of 70 B (about 10 packets) per step, five times that. The ring
        // outlasts the queue (1024 packets against the 500 sent while one datagram crosses the queue),
        // so a first NAK arrives before its packet could have been overwritten.
        var network = new MulticastNetwork(options, subscribers, dropRate: 0.05, reorderRate: 0, seed) { ReadsPerStep = 2 };
        for (var s = 0; s < subscribers; s++)
        {
            network.Down(s).QueueLimit = 100;
        }

        return network;
    }

    private static void OfferAllAsFastAsAccepted(MulticastNetwork network)
    {
        var offered = 0;
        while (offered < Messages)
        {
            for (var burst = 0; burst < 200 && offered < Messages && network.Offer(offered, 70, flush: false); burst++)
            {
                offered++;
            }

            network.Step();
        }
    }
}
