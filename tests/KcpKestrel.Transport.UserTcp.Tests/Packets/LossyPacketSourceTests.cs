using KcpKestrel.Transport.UserTcp.Packets;

namespace KcpKestrel.Transport.UserTcp.Tests.Packets;

public sealed class LossyPacketSourceTests
{
    private const int Count = 2000;

    [Fact]
    public void NoImpairment_EveryPacketPassesInOrderBothWays()
    {
        var inner = new QueuePacketSource(Count);
        using var source = new LossyPacketSource(inner, LinkImpairment.None, seed: 1);
        var queue = source.OpenQueue(0);

        var received = ReceiveAll(inner, queue);
        SendAll(queue);

        Assert.Equal(Enumerable.Range(0, Count), received);
        Assert.Equal(Enumerable.Range(0, Count), inner.SentNumbers.Take(inner.SentCount));
        Assert.Equal(Count, source.Received.Packets);
        Assert.Equal(0, source.Received.Dropped + source.Sent.Dropped);
    }

    [Fact]
    public void Loss_DropsAboutTheRateCountsEachDropAndReplaysWithTheSameSeed()
    {
        var (first, dropped) = ReceiveWith(new LinkImpairment(0.05), seed: 7);
        var (again, _) = ReceiveWith(new LinkImpairment(0.05), seed: 7);
        var (other, _) = ReceiveWith(new LinkImpairment(0.05), seed: 8);

        Assert.Equal(Count, first.Count + dropped);
        Assert.InRange(dropped, Count * 0.02, Count * 0.09);
        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
        Assert.Equal(first.Order(), first);
    }

    [Fact]
    public void Reorder_DeliversEachPacketOnceSomeLate()
    {
        var (received, _) = ReceiveWith(new LinkImpairment(0, Reorder: 0.1), seed: 3);

        Assert.Equal(Enumerable.Range(0, Count), received.Order());
        var late = received.Zip(received.Skip(1)).Count(pair => pair.First > pair.Second);
        Assert.InRange(late, Count * 0.05, Count * 0.15);
    }

    [Fact]
    public void Duplicate_DeliversTheCopyRightAfterTheOriginal()
    {
        var inner = new QueuePacketSource(Count);
        using var source = new LossyPacketSource(inner, new LinkImpairment(0, Duplicate: 0.1), seed: 5);
        var received = ReceiveAll(inner, source.OpenQueue(0));

        Assert.Equal(Count + source.Received.Duplicated, received.Count);
        Assert.InRange(source.Received.Duplicated, Count * 0.05, Count * 0.15);
        Assert.Equal(Enumerable.Range(0, Count), received.Distinct());
    }

    [Fact]
    public void SendSide_DropsHoldsAndDuplicatesAndFlushesTheHeldPacketWhenIdle()
    {
        var inner = new QueuePacketSource(Count);
        using var source = new LossyPacketSource(inner, receive: LinkImpairment.None, send: new LinkImpairment(0.05, 0.05, 0.05), seed: 11);
        var queue = source.OpenQueue(0);
        SendAll(queue);
        queue.Wait(0);

        var sent = inner.SentNumbers.Take(inner.SentCount).ToList();
        Assert.Equal(Count - source.Sent.Dropped + source.Sent.Duplicated, sent.Count);
        Assert.True(source.Sent.Dropped > 0 && source.Sent.Reordered > 0 && source.Sent.Duplicated > 0);
        Assert.Equal(Count - source.Sent.Dropped, sent.Distinct().Count());
        Assert.Equal(0, source.Received.Packets);
    }

    [Fact]
    public void HeldPacket_IsDeliveredWhenNothingNewerArrives()
    {
        var inner = new QueuePacketSource(4);
        using var source = new LossyPacketSource(inner, new LinkImpairment(0, Reorder: 1), seed: 1);
        var queue = source.OpenQueue(0);
        inner.Enqueue(QueuePacketSource.Packet(42));
        var buffer = new byte[1500];

        Assert.True(queue.Wait(0));
        var length = queue.TryReceive(buffer);

        Assert.Equal(42, QueuePacketSource.Number(buffer.AsSpan(0, length)));
        Assert.Equal(0, queue.TryReceive(buffer));
        Assert.False(queue.Wait(0));
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    public void ImpossibleProbability_IsAnError(double p)
    {
        var inner = new QueuePacketSource(1);
        Assert.Throws<ArgumentOutOfRangeException>(() => new LossyPacketSource(inner, new LinkImpairment(p), seed: 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LossyPacketSource(inner, new LinkImpairment(0, Duplicate: p), seed: 1));
    }

    [Fact]
    public void SteadyState_AllocatesNothing()
    {
        var inner = new QueuePacketSource(Count);
        using var source = new LossyPacketSource(inner, new LinkImpairment(0.05, 0.05, 0.05), seed: 9);
        var queue = source.OpenQueue(0);
        var packets = Enumerable.Range(0, Count).Select(i => QueuePacketSource.Packet(i)).ToArray();
        var buffer = new byte[1500];
        Run();
        inner.ResetSent();

        var before = GC.GetAllocatedBytesForCurrentThread();
        Run();
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);

        void Run()
        {
            foreach (var packet in packets)
            {
                inner.Enqueue(packet);
                while (queue.TryReceive(buffer) is var length && length > 0)
                {
                    queue.Send(buffer.AsSpan(0, length));
                }
            }

            queue.Wait(0);
            inner.ResetSent();
        }
    }

    private static (List<int> Received, long Dropped) ReceiveWith(LinkImpairment impairment, int seed)
    {
        var inner = new QueuePacketSource(Count);
        using var source = new LossyPacketSource(inner, impairment, seed);
        return (ReceiveAll(inner, source.OpenQueue(0)), source.Received.Dropped);
    }

    private static List<int> ReceiveAll(QueuePacketSource inner, IPacketQueue queue)
    {
        for (var i = 0; i < Count; i++)
        {
            inner.Enqueue(QueuePacketSource.Packet(i));
        }

        var received = new List<int>();
        var buffer = new byte[1500];
        while (queue.TryReceive(buffer) is var length && length > 0)
        {
            received.Add(QueuePacketSource.Number(buffer.AsSpan(0, length)));
        }

        return received;
    }

    private static void SendAll(IPacketQueue queue)
    {
        for (var i = 0; i < Count; i++)
        {
            queue.Send(QueuePacketSource.Packet(i));
        }
    }
}
