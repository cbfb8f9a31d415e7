using KcpKestrel.Multicast.Tests.Harness;

namespace KcpKestrel.Multicast.Tests.EndToEnd;

/// <summary>
/// The subscribers' NAK policy seen from the publisher: at a high packet rate under loss, a gap is
/// asked for again only when its repair could have arrived, so NAKs and retransmits stay close to
/// what the links dropped.
/// </summary>
public sealed class NakPolicyTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 2)]
    public void FivePercentLoss_ManyPacketsInFlight_RetransmitsStayNearTheDrops(int subscribers, int seed)
    {
        const int Messages = 40_000;
        var network = new MulticastNetwork(new MulticastOptions { HistoryPackets = 131_072 }, subscribers, dropRate: 0.05, reorderRate: 0, seed, delay: 2000);
        for (var i = 0; i < Messages; i++)
        {
            // 5 flushed packets per 50 µs step and 2 ms each way (a deep socket queue): 400 packets in flight
            // per round trip, a round trip longer than the publisher's suppress window and many reorder waits.
            Assert.True(network.Offer(i, 70, flush: true));
            if (i % 5 == 4)
            {
                network.Step();
            }
        }

        network.RunUntilDelivered(Messages, maxMicros: 30_000_000);
        long dropped = 0;
        long farAhead = 0;
        for (var s = 0; s < network.Count; s++)
        {
            Assert.Equal((Messages, 0L), (network.Receiver(s).InOrder, network.Receiver(s).Unrecoverable));
            dropped += network.Down(s).Dropped;
            farAhead += network.Subscriber(s).Counters.FarAhead;
        }

        var counters = network.Publisher.Counters;
        output.WriteLine(
            $"{subscribers} subscribers: {dropped} dropped downstream, {counters.Retransmits} retransmits, "
            + $"{counters.NaksReceived} NAKs received, {counters.NaksSuppressed} suppressed, {farAhead} far ahead");

        // Each drop is repaired about once; a lost NAK or repair adds a retry, re-NAKing repairs in flight adds many.
        Assert.InRange(counters.Retransmits, 1, dropped * 3 / 2);
        Assert.InRange(counters.NaksReceived, 1, 2 * dropped);
    }
}
