using KcpKestrel.Transport.UserTcp.Tcp;

namespace KcpKestrel.Transport.UserTcp.Tests.Stack;

/// <summary>The stack's demultiplexing allocates nothing per segment once a flow exists.</summary>
public sealed class TcpStackAllocationTests
{
    [Fact]
    public void ASteadyTransferThroughTwoStacks_AllocatesNothing()
    {
        const long total = 64L * 1024 * 1024;
        using var pair = new StackPair(17);
        pair.Acceptor.Configure = e => e.ToSend = total;
        var client = pair.Connect(toSend: total);

        // Warm up: the handshake, the buffers, the link's pool, the JIT.
        Assert.True(pair.RunUntil(() => client.Received >= 4 * 1024 * 1024, 60_000));
        var server = pair.Acceptor.Accepted[0];
        var segmentsBefore = pair.Link.A.Delivered + pair.Link.B.Delivered;

        Func<bool> done = () => client.Received >= 12 * 1024 * 1024;
        var before = GC.GetAllocatedBytesForCurrentThread();
        Assert.True(pair.Link.RunUntil(done, 60_000)); // the link itself: StackPair.RunUntil allocates its wrapper
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        var segments = pair.Link.A.Delivered + pair.Link.B.Delivered - segmentsBefore;

        Assert.True(segments > 5_000, $"only {segments} segments");
        Assert.Equal(0, allocated);
        Assert.Equal(0, client.Mismatches + server.Mismatches);
    }
}
