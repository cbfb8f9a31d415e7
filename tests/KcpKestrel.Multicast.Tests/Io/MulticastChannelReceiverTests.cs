using KcpKestrel.Multicast.Tests.Harness;

namespace KcpKestrel.Multicast.Tests.Io;

public sealed class MulticastChannelReceiverTests
{
    [Fact]
    public async Task SmallChannelSlowReader_EveryMessageReadInOrder()
    {
        const int Messages = 2000;
        var group = LoopbackGroup.V4(node: 1);
        var channel = new MulticastChannelReceiver(capacity: 16);
        using var subscriber = new MulticastTransport(LoopbackGroup.Member(group, node: 2), channel);
        using var publisher = new MulticastTransport(group);
        var message = new byte[300];
        for (var i = 0; i < Messages; i++)
        {
            publisher.Offer(message.AsSpan(0, SequenceMessages.Write(message, i, 100 + (i % 200))), topic: 5, flush: i % 7 == 0);
        }

        using var timeout = new CancellationTokenSource(TestWaits.Bound);
        for (var i = 0; i < Messages; i++)
        {
            using var received = await channel.Reader.ReadAsync(timeout.Token);
            Assert.Equal((5, i), (received.Topic, SequenceMessages.Check(received.Payload.Span)));
            if (i % 100 == 0)
            {
                // A slow consumer: the channel fills and the receive thread waits.
                await Task.Delay(1);
            }
        }

        channel.Complete();
        Assert.False(await channel.Reader.WaitToReadAsync(timeout.Token));
    }
}
