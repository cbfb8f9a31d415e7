using KcpKestrel.Multicast.Tests.Harness;
using KcpKestrel.Multicast.Wire;

namespace KcpKestrel.Multicast.Tests.EndToEnd;

/// <summary>
/// One publisher, several subscribers, seeded loss and reordering on every link, a manual clock:
/// the protocol core alone, end to end.
/// </summary>
public sealed class LossyMulticastTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void FivePercentLossEachWay_EveryMessageArrivesOnceInOrder(int seed)
    {
        const int Messages = 5000;
        var network = new MulticastNetwork(new MulticastOptions(), subscribers: 3, dropRate: 0.05, reorderRate: 0.05, seed);
        for (var i = 0; i < Messages; i++)
        {
            // Every 97th message spans several datagrams; every 10th asks for a flush.
            Assert.True(network.Offer(i, i % 97 == 0 ? 4000 + i : 70, flush: i % 10 == 0));
            if (i % 5 == 0)
            {
                network.Step();
            }
        }

        network.RunUntilDelivered(Messages, maxMicros: 30_000_000);
        for (var s = 0; s < network.Count; s++)
        {
            var receiver = network.Receiver(s);
            Assert.Equal((Messages, 0, 0, 0, 0L), (receiver.InOrder, receiver.Duplicates, receiver.OutOfOrder, receiver.Corrupt, receiver.Unrecoverable));
            Assert.True(network.Down(s).Dropped > 0);
            Assert.True(network.Subscriber(s).Counters.NaksSent > 0);
        }

        var counters = network.Publisher.Counters;
        output.WriteLine(
            $"seed {seed}: {counters.Packets} packets, {counters.Retransmits} retransmits, {counters.NaksReceived} NAKs received, "
            + $"{counters.NaksSuppressed} suppressed, {network.Now} µs simulated");
        Assert.True(counters.Retransmits > 0);
    }

    [Fact]
    public void HistoryTooSmall_SignalsTheUnrecoverableGap_ThenResyncs()
    {
        var network = new MulticastNetwork(new MulticastOptions { HistoryPackets = 16 }, subscribers: 2, dropRate: 0, reorderRate: 0, seed: 4);
        var historyBytes = network.Publisher.HistoryBytes;
        network.Down(1).Deaf = true;
        var index = 0;
        for (; index < 2000; index++)
        {
            network.Offer(index, 70, flush: true);
            network.Step();
        }

        network.Down(1).Deaf = false;
        for (; index < 2100; index++)
        {
            // The late subscriber's NAKs hold what the ring still has (RepairHold): offers wait meanwhile.
            while (!network.Offer(index, 70, flush: true))
            {
                network.Step();
            }

            network.Step();
        }

        for (var i = 0; i < 10_000; i++)
        {
            network.Step();
        }

        // The deaf subscriber cannot make the publisher keep more: the ring is what it was.
        Assert.Equal(historyBytes, network.Publisher.HistoryBytes);
        Assert.Equal(2100, network.Receiver(0).InOrder);
        var late = network.Receiver(1);
        Assert.True(late.Unrecoverable > 0);
        Assert.Equal(1, network.Subscriber(1).Counters.Unrecoverable);
        Assert.Equal(0, late.Duplicates + late.Corrupt);
        Assert.Equal(2100, late.Next);
    }

    [Fact]
    public void ForgedNaks_ForNeverSentSequences_AreCountedAndIgnored()
    {
        var network = new MulticastNetwork(new MulticastOptions(), subscribers: 1, dropRate: 0, reorderRate: 0, seed: 5);
        for (var i = 0; i < 10; i++)
        {
            network.Offer(i, 70, flush: true);
        }

        network.Step();
        var nak = new byte[ControlPackets.MaxSize];
        var length = ControlPackets.WriteNak(nak, source: 100, publisher: 1, stream: 1, first: 1000, count: 4096);
        network.Publisher.OnDatagram(nak.AsSpan(0, length), network.Now);

        Assert.Equal(4096, network.Publisher.Counters.NaksNeverSent);
        Assert.Equal(0, network.Publisher.Counters.Retransmits);
    }

    [Fact]
    public void RateLimit_HoldsPerSimulatedSecond_WithRetransmitsIncluded()
    {
        const int Rate = 2000;
        var network = new MulticastNetwork(new MulticastOptions { PacketsPerSecond = Rate }, subscribers: 2, dropRate: 0.05, reorderRate: 0, seed: 6);
        var index = 0;
        var refused = 0;
        while (network.Now < 3_000_000)
        {
            // Offer far more than the rate allows: every message asks for a flush.
            for (var i = 0; i < 3; i++)
            {
                if (network.Offer(index, 300, flush: true))
                {
                    index++;
                }
                else
                {
                    refused++;
                }
            }

            network.Step();
        }

        output.WriteLine($"data packets per simulated second: {string.Join(", ", network.DataPacketsPerSecond)}; refused offers {refused}");
        Assert.True(refused > 0);
        Assert.True(network.Publisher.Counters.Retransmits > 0);

        // The burst is 1 ms of packets, so a second holds at most the rate plus that.
        Assert.All(network.DataPacketsPerSecond.Take(3), count => Assert.InRange(count, Rate / 2, Rate + (Rate / 1000)));
    }
}
