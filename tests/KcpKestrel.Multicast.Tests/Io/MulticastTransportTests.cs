using KcpKestrel.Multicast.Tests.Harness;
using KcpKestrel.Tests.Shared;

namespace KcpKestrel.Multicast.Tests.Io;

/// <summary>Real sockets: one publisher and two subscribers on a loopback multicast group.</summary>
public sealed class MulticastTransportTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const int Messages = 3000;

    [Fact]
    public async Task OnePublisherTwoSubscribers_EveryMessageArrivesOnceInOrder()
    {
        var (inOrder, _) = await RunAsync(LoopbackGroup.V4(node: 1), dropRate: 0);
        Assert.All(inOrder, count => Assert.Equal(Messages, count));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task FivePercentDroppedAtEachSubscriber_NaksRepairEveryGap(int seed)
    {
        var (inOrder, naksSent) = await RunAsync(LoopbackGroup.V4(node: 1), dropRate: 0.05, seed);
        Assert.All(inOrder, count => Assert.Equal(Messages, count));
        Assert.All(naksSent, naks => Assert.True(naks > 0));
    }

    [Fact]
    public async Task Ipv6GroupOnLoopback_EveryMessageArrivesOnceInOrder()
    {
        var options = LoopbackGroup.V6(node: 1);
        if (LoopbackGroup.Unavailable(options) is { } reason)
        {
            output.WriteLine($"SKIPPED: the kernel does not deliver IPv6 multicast on lo: {reason}");
            return;
        }

        var (inOrder, _) = await RunAsync(options, dropRate: 0);
        Assert.All(inOrder, count => Assert.Equal(Messages, count));
    }

    [Fact]
    public void OfferInSteadyState_AllocatesNothingOnTheCallingThread()
    {
        using var publisher = new MulticastTransport(LoopbackGroup.V4(node: 1));
        var message = new byte[70];
        for (var i = 0; i < 20_000; i++)
        {
            publisher.Offer(message, topic: 1, flush: i % 10 == 0);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 20_000; i++)
        {
            publisher.Offer(message, topic: 1, flush: i % 10 == 0);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Disposed_DisposeAgainIsHarmlessAndOfferThrows()
    {
        var options = LoopbackGroup.V4(node: 1);
        var transport = new MulticastTransport(options);
        Assert.Equal(options.Group, transport.Group.ToString());
        transport.Dispose();
        transport.Dispose();
        Assert.Throws<ObjectDisposedException>(() => transport.TryOffer([1, 2, 3], topic: 1, flush: true));
    }

    [Fact]
    public void GroupNotMulticast_ThrowsNamingTheSetting()
    {
        var options = new MulticastOptions { Group = "127.0.0.1:40000" };
        var error = Assert.Throws<ArgumentOutOfRangeException>(options.Validate);
        Assert.Equal(nameof(MulticastOptions.Group), error.ParamName);
    }

    private async Task<(int[] InOrder, long[] NaksSent)> RunAsync(MulticastOptions publisherOptions, double dropRate, int seed = 1)
    {
        var receivers = new[] { new CheckingReceiver(), new CheckingReceiver() };
        var subscribers = new MulticastTransport[receivers.Length];
        for (var i = 0; i < receivers.Length; i++)
        {
            var options = LoopbackGroup.Member(publisherOptions, (ushort)(10 + i), o => (o.DiagnosticDropRate, o.DiagnosticDropSeed) = (dropRate, seed * 10 + i));
            subscribers[i] = new MulticastTransport(options, receivers[i], 1);
        }

        try
        {
            using var publisher = new MulticastTransport(publisherOptions);
            var message = new byte[8000];
            for (var i = 0; i < Messages; i++)
            {
                // Every 97th message spans two datagrams; every 10th asks for a flush.
                var length = SequenceMessages.Write(message, i, i % 97 == 0 ? 2000 + i : 70);
                publisher.Offer(message.AsSpan(0, length), topic: 1, flush: i % 10 == 0);
                if (i % 200 == 0)
                {
                    // Let the receivers keep up, as a paced publisher would; the socket buffers are small.
                    await Task.Delay(1);
                }
            }

            await TestWaits.WaitUntilAsync(
                () => receivers.All(r => r.Next >= Messages),
                $"all messages at both subscribers ({string.Join(", ", receivers.Select(r => r.Next))} of {Messages})");
            for (var i = 0; i < receivers.Length; i++)
            {
                var r = receivers[i];
                Assert.Equal((0, 0, 0, 0L), (r.Duplicates, r.OutOfOrder, r.Corrupt, r.Unrecoverable));
                output.WriteLine($"subscriber {i}: {subscribers[i].SubscriberCounters!.NaksSent} NAKs sent, {subscribers[i].DiagnosticDropped} dropped on purpose");
            }

            output.WriteLine($"publisher: {publisher.PublisherCounters!.Packets} packets, {publisher.PublisherCounters.Retransmits} retransmits");
            return (receivers.Select(r => r.InOrder).ToArray(), subscribers.Select(s => s.SubscriberCounters!.NaksSent).ToArray());
        }
        finally
        {
            foreach (var subscriber in subscribers)
            {
                subscriber.Dispose();
            }
        }
    }
}
