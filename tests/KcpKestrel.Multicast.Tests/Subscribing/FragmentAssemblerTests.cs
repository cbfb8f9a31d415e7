using KcpKestrel.Multicast.Subscribing;
using KcpKestrel.Multicast.Wire;

namespace KcpKestrel.Multicast.Tests.Subscribing;

public sealed class FragmentAssemblerTests
{
    private readonly SubscriberCounters _counters = new();
    private readonly FragmentAssembler _assembler = new(maxMessageSize: 100);

    [Fact]
    public void FirstMiddleLast_CompleteTheMessage()
    {
        Assert.False(Accept(FrameFlags.First, 1, 6, [1, 2]));
        Assert.False(Accept(FrameFlags.Middle, 1, 6, [3, 4]));
        Assert.True(Accept(FrameFlags.Last, 1, 6, [5, 6]));
        Assert.Equal([1, 2, 3, 4, 5, 6], _assembler.Message.ToArray());
        Assert.Equal(0, _counters.BrokenMessages);
    }

    [Fact]
    public void MiddleWithoutFirst_IsSkippedToItsLast_AndCountedOnce()
    {
        Assert.False(Accept(FrameFlags.Middle, 1, 6, [3, 4]));
        Assert.False(Accept(FrameFlags.Last, 1, 6, [5, 6]));
        Assert.Equal(1, _counters.BrokenMessages);
        Assert.False(Accept(FrameFlags.First, 1, 2, [1]));
        Assert.True(Accept(FrameFlags.Last, 1, 2, [2]));
    }

    [Fact]
    public void FragmentsOverrunningTheTotal_AreDropped()
    {
        Accept(FrameFlags.First, 1, 3, [1, 2]);
        Assert.False(Accept(FrameFlags.Last, 1, 3, [3, 4]));
        Assert.Equal(1, _counters.BrokenMessages);
    }

    [Fact]
    public void LastShortOfTheTotal_IsDropped()
    {
        Accept(FrameFlags.First, 1, 9, [1, 2]);
        Assert.False(Accept(FrameFlags.Last, 1, 9, [3]));
        Assert.Equal(1, _counters.BrokenMessages);
    }

    [Fact]
    public void TopicChangingMidMessage_IsDropped()
    {
        Accept(FrameFlags.First, 1, 4, [1, 2]);
        Assert.False(Accept(FrameFlags.Last, 2, 4, [3, 4]));
        Assert.Equal(1, _counters.BrokenMessages);
    }

    [Fact]
    public void TotalAboveMaxMessageSize_IsSkippedWithoutAllocating()
    {
        byte[] payload = [1];
        var before = GC.GetAllocatedBytesForCurrentThread();
        Assert.False(Accept(FrameFlags.First, 1, uint.MaxValue, payload));
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.False(Accept(FrameFlags.Last, 1, uint.MaxValue, [2]));
        Assert.Equal(1, _counters.BrokenMessages);
    }

    [Fact]
    public void Reset_MidMessage_CountsItOnceAndSkipsTheRest()
    {
        Accept(FrameFlags.First, 1, 6, [1, 2]);
        _assembler.Reset(_counters);
        Assert.False(Accept(FrameFlags.Middle, 1, 6, [3, 4]));
        Assert.False(Accept(FrameFlags.Last, 1, 6, [5, 6]));
        Assert.Equal(1, _counters.BrokenMessages);
    }

    private bool Accept(FrameFlags flags, byte topic, uint total, byte[] payload) =>
        _assembler.Accept(new Frame(topic, flags, total, payload), wanted: true, _counters);
}
