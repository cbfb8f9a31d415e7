using KcpKestrel.Transport.UserTcp.Packets;
using KcpKestrel.Transport.UserTcp.Tcp;

namespace KcpKestrel.Transport.UserTcp.Tests.Packets;

public sealed class InMemoryPacketLinkTests
{
    private static List<int> SendAndDrain(InMemoryPacketLink link, int count, uint advanceEach = 1, uint drainAfter = 100)
    {
        var a = link.A.OpenQueue(0);
        var b = link.B.OpenQueue(0);
        var received = new List<int>();
        var buffer = new byte[64];
        for (int i = 0; i < count; i++)
        {
            a.Send(BitConverter.GetBytes(i));
            link.Advance(advanceEach);
            Drain(b, buffer, received);
        }

        link.Advance(drainAfter);
        Drain(b, buffer, received);
        return received;
    }

    private static void Drain(IPacketQueue queue, byte[] buffer, List<int> received)
    {
        int length;
        while ((length = queue.TryReceive(buffer)) > 0)
        {
            received.Add(BitConverter.ToInt32(buffer, 0));
        }
    }

    [Fact]
    public void PerfectLink_DeliversInOrder_AfterTheDelay()
    {
        var link = new InMemoryPacketLink(seed: 1) { DelayMs = 10 };
        var a = link.A.OpenQueue(0);
        var b = link.B.OpenQueue(0);
        a.Send([1, 2, 3]);
        var buffer = new byte[16];
        Assert.False(b.Wait(0));
        Assert.Equal(0, b.TryReceive(buffer));
        link.Advance(9);
        Assert.Equal(0, b.TryReceive(buffer));
        link.Advance(1);
        Assert.True(b.Wait(0));
        Assert.Equal(3, b.TryReceive(buffer));
        Assert.Equal(new byte[] { 1, 2, 3 }, buffer[..3]);
        Assert.Equal(Enumerable.Range(0, 100), SendAndDrain(new InMemoryPacketLink(seed: 2) { DelayMs = 5 }, 100));
    }

    [Fact]
    public void LossyLink_IsDeterministicForASeed()
    {
        InMemoryPacketLink Make(int seed) => new(seed) { LossRate = 0.2, DuplicateRate = 0.1, ReorderRate = 0.2, ReorderDelayMs = 20, DelayMs = 3 };
        var first = SendAndDrain(Make(7), 1000);
        var second = SendAndDrain(Make(7), 1000);
        var other = SendAndDrain(Make(8), 1000);
        Assert.Equal(first, second);
        Assert.NotEqual(first, other);

        // Roughly the configured fates (loose bounds: the seed fixes them, these only catch a broken knob).
        int distinct = first.Distinct().Count();
        Assert.InRange(distinct, 700, 880);
        Assert.True(first.Count > distinct, "some packets should arrive twice");
        Assert.False(first.SequenceEqual(first.Order()), "some packets should arrive out of order");
    }

    [Fact]
    public void DropFilter_DropsWhatItMatches_AndCountsIt()
    {
        var link = new InMemoryPacketLink(seed: 1);
        link.A.DropFilter = packet => packet[0] % 3 == 0;
        var received = SendAndDrain(link, 30);
        Assert.Equal(Enumerable.Range(0, 30).Where(i => i % 3 != 0), received);
        Assert.Equal(10, link.A.Filtered);
        Assert.Equal(30, link.A.Sent);
        Assert.Equal(20, link.B.Received);
    }

    [Fact]
    public async Task Wait_ReturnsWhenWoken_OrWhenAPacketBecomesDue()
    {
        var link = new InMemoryPacketLink(seed: 1) { DelayMs = 10 };
        var a = link.A.OpenQueue(0);
        var b = link.B.OpenQueue(0);
        Assert.False(b.Wait(20));

        var waiter = Task.Run(() => b.Wait(10_000));
        b.Wake();
        Assert.True(await waiter.WaitAsync(TimeSpan.FromSeconds(10)));

        a.Send([9]);
        waiter = Task.Run(() => b.Wait(10_000));
        link.Advance(10);
        Assert.True(await waiter.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public void FullQueue_DropsAndCounts()
    {
        var link = new InMemoryPacketLink(seed: 1) { Capacity = 4 };
        var a = link.A.OpenQueue(0);
        for (int i = 0; i < 6; i++)
        {
            a.Send([1]);
        }

        Assert.Equal(2, link.A.Overflowed);
        Assert.Equal(4, link.B.InFlight);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Filters_ReadFlagsSeqAndPayloadLength(bool v6)
    {
        var header = TestPackets.Data();
        var packet = TestPackets.FromPeer(v6, header, new byte[123]);
        Assert.Equal(TcpFlags.Ack | TcpFlags.Psh, InMemoryPacketLinkFilters.TcpFlagsOf(packet));
        Assert.Equal(header.Seq, InMemoryPacketLinkFilters.TcpSeqOf(packet));
        Assert.Equal(123, InMemoryPacketLinkFilters.TcpPayloadLengthOf(packet));
        Assert.Null(InMemoryPacketLinkFilters.TcpFlagsOf(packet.AsSpan(0, 30)));
        Assert.Equal(-1, InMemoryPacketLinkFilters.TcpPayloadLengthOf([0x45, 0, 0]));
    }
}
