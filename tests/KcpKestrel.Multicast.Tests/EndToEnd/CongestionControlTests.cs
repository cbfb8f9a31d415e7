using KcpKestrel.Multicast.Tests.Harness;

namespace KcpKestrel.Multicast.Tests.EndToEnd;

/// <summary>
/// A publisher with no rate limit many times faster than its one subscriber, behind a bounded receive
/// queue (a socket buffer) that drops whole bursts when full: the congestion response slows it to
/// what the subscriber takes, nothing is lost, and the repairs shrink to a fraction.
/// </summary>
public sealed class CongestionControlTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const int Messages = 200_000;

    [Fact]
    public void UnpacedPublisher_FarFasterThanAQueueLimitedSubscriber_LosesNothingAndRepairsAFractionOfTheUncontrolledRun()
    {
        var paced = Run(new MulticastOptions());
        var unpaced = Run(new MulticastOptions { CongestionControl = false });

        foreach (var network in new[] { paced, unpaced })
        {
            var receiver = network.Receiver(0);
            Assert.Equal((Messages, 0, 0, 0, 0L), (receiver.InOrder, receiver.Duplicates, receiver.OutOfOrder, receiver.Corrupt, receiver.Unrecoverable));
        }

        Assert.True(paced.Publisher.CongestionCuts > 0);
        Assert.True(paced.Publisher.Counters.CongestionWaits > 0);
        Assert.Equal(0, unpaced.Publisher.Counters.CongestionWaits);
        Assert.True(
            paced.Publisher.Counters.Retransmits * 5 < unpaced.Publisher.Counters.Retransmits,
            $"{paced.Publisher.Counters.Retransmits} retransmits paced, {unpaced.Publisher.Counters.Retransmits} unpaced");
    }

    [Fact]
    public void UnpacedPublisher_WithoutCongestionControlAndASmallerHistory_LosesMessages()
    {
        // Without the congestion response the repairs of a collapse outlast a history of 8192 packets.
        var network = Run(new MulticastOptions { CongestionControl = false, HistoryPackets = 8192 });
        Assert.True(network.Receiver(0).Unrecoverable > 0);
    }

    private MulticastNetwork Run(MulticastOptions options)
    {
        // The subscriber reads 2 datagrams per 50 µs step (40k/s) from a queue of 50, with no random
        // loss; the publisher offers up to 400 messages of 70 B (about 20 packets) per step, ten times that.
        var network = new MulticastNetwork(options, subscribers: 1, dropRate: 0, reorderRate: 0, seed: 1) { ReadsPerStep = 2 };
        network.Down(0).QueueLimit = 50;
        var offered = 0;
        for (var step = 0; step < 400_000 && network.Receiver(0).Next < Messages; step++)
        {
            for (var burst = 0; burst < 400 && offered < Messages && network.Offer(offered, 70, flush: false); burst++)
            {
                offered++;
            }

            network.Step();
        }

        var counters = network.Publisher.Counters;
        output.WriteLine(
            $"congestion control {options.CongestionControl}: {counters.Packets} packets, {counters.Retransmits} retransmits, {counters.NaksGone} gone, "
            + $"{counters.CongestionWaits} congestion waits, {network.Publisher.CongestionCuts} cuts, {network.Publisher.PacedRate:F0} pps at the end, "
            + $"{network.Down(0).Dropped} queue drops, {network.Now} µs");
        return network;
    }
}
