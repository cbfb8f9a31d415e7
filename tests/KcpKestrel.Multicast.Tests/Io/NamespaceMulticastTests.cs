using KcpKestrel.Multicast.Tests.Harness;

namespace KcpKestrel.Multicast.Tests.Io;

/// <summary>
/// Real groups between two network namespaces joined by a veth pair (a real second host, and an
/// interface with the MULTICAST flag that the host's <c>lo</c> lacks for IPv6). Needs root.
/// </summary>
public sealed class NamespaceMulticastTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const int Messages = 2000;

    [Fact]
    public async Task Ipv6GroupAcrossAVethPair_EveryMessageArrivesOnceInOrder()
    {
        if (Skipped() is { } reason)
        {
            output.WriteLine($"SKIPPED: {reason}");
            return;
        }

        using var hostA = NetworkNamespace.Create();
        using var hostB = NetworkNamespace.Create();
        var (addressA, addressB) = NetworkNamespace.Link(hostA, hostB, v6: true);
        var group = LoopbackGroup.V6(node: 1, o => o.Interface = addressA);
        Assert.StartsWith("[ff15::", group.Group, StringComparison.Ordinal);
        var receiver = new CheckingReceiver();
        using var publisher = hostA.Enter(() => new MulticastTransport(group));
        using (hostB.Enter(() => new MulticastTransport(LoopbackGroup.Member(group, node: 2, o => o.Interface = addressB), receiver)))
        {
            await PublishAsync(publisher, receiver);
        }

        AssertDelivered(receiver);
    }

    [Fact]
    public async Task Ipv4AcrossAVethPairWithFivePercentDropped_NaksRepairEveryGap()
    {
        if (Skipped() is { } reason)
        {
            output.WriteLine($"SKIPPED: {reason}");
            return;
        }

        using var hostA = NetworkNamespace.Create();
        using var hostB = NetworkNamespace.Create();
        var (addressA, addressB) = NetworkNamespace.Link(hostA, hostB);
        var group = LoopbackGroup.V4(node: 1, o => o.Interface = addressA);
        var receiver = new CheckingReceiver();
        var subscriberOptions = LoopbackGroup.Member(group, node: 2, o => (o.Interface, o.DiagnosticDropRate, o.DiagnosticDropSeed) = (addressB, 0.05, 7));
        using var publisher = hostA.Enter(() => new MulticastTransport(group));
        using (var subscriber = hostB.Enter(() => new MulticastTransport(subscriberOptions, receiver)))
        {
            await PublishAsync(publisher, receiver);
            Assert.True(subscriber.SubscriberCounters!.NaksSent > 0, "the dropped packets were NAKed");
            output.WriteLine($"{subscriber.DiagnosticDropped} dropped on purpose, {subscriber.SubscriberCounters.NaksSent} NAKs, {publisher.PublisherCounters!.Retransmits} retransmits");
        }

        AssertDelivered(receiver);
    }

    private static string? Skipped() => NetworkNamespace.Unavailable();

    private static async Task PublishAsync(MulticastTransport publisher, CheckingReceiver receiver)
    {
        var message = new byte[2000];
        for (var i = 0; i < Messages; i++)
        {
            // Every 97th message spans two datagrams (DatagramSize 1400); every 10th flushes.
            publisher.Offer(message.AsSpan(0, SequenceMessages.Write(message, i, i % 97 == 0 ? 1900 : 70)), topic: 1, flush: i % 10 == 9 || i == Messages - 1);
            if (i % 200 == 0)
            {
                // Pace like a real publisher: the socket buffers are finite.
                await Task.Delay(1);
            }
        }

        await TestWaits.WaitUntilAsync(() => receiver.Next >= Messages, $"{Messages} messages (got {receiver.Next})");
    }

    private static void AssertDelivered(CheckingReceiver receiver) =>
        Assert.Equal((Messages, 0, 0, 0, 0L), (receiver.InOrder, receiver.Duplicates, receiver.OutOfOrder, receiver.Corrupt, receiver.Unrecoverable));
}
