using System.Buffers;
using KcpKestrel.Transport.UserTcp.Tcp;
using Xunit.Abstractions;

namespace KcpKestrel.Transport.UserTcp.Tests.Connection;

public class ResourceTests(ITestOutputHelper output)
{
    [Fact]
    public void SteadyStateTransferAllocatesNothing()
    {
        // A pool of the test's own, as a loop would have: the shared pool's per-core stacks are raced (and trimmed)
        // by the tests running beside this one, which would show up here as allocations that are not ours.
        var options = new TcpConnectionOptions { BufferPool = ArrayPool<byte>.Create(1024 * 1024, 16) };
        var pair = new ConnectionPair(91, options, options);
        pair.Connect();
        pair.Link.Impair(0.02, duplicate: 0.01, reorder: 0.02, delayMs: 2);
        var chunk = new byte[16 * 1024];
        var sink = new byte[64 * 1024];

        void Pump(int rounds)
        {
            for (var i = 0; i < rounds; i++)
            {
                pair.Client.Send(chunk, pair.Now);
                pair.Server.Send(chunk, pair.Now);
                pair.Link.Advance(1);
                while (pair.Server.Receive(sink, pair.Now) > 0)
                {
                }

                while (pair.Client.Receive(sink, pair.Now) > 0)
                {
                }
            }
        }

        Pump(3_000); // warm-up: pools, the link's heap, SACK arrays, JIT tiers
        var before = GC.GetAllocatedBytesForCurrentThread();
        var received = pair.Server.GetStatistics().BytesReceived;
        Pump(3_000);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        var moved = pair.Server.GetStatistics().BytesReceived - received;
        output.WriteLine($"{moved} bytes each way in the measured loop, {allocated} bytes allocated; retransmits {pair.ClientOwner.Counters.Retransmits}");
        Assert.True(moved > 1_000_000, $"only {moved} bytes moved");
        Assert.True(pair.ClientOwner.Counters.Retransmits > 0);
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void IdleEstablishedConnectionIsSmallAndHoldsNoBuffer()
    {
        var pair = new ConnectionPair(92);
        var options = new TcpConnectionOptions();

        // The connection object itself (everything but buffers is inline: rings, RTT, cwnd, SACK state, timers).
        var before = GC.GetAllocatedBytesForCurrentThread();
        var probe = new TcpConnection(pair.ClientOwner, ConnectionPair.ClientFlow, options);
        var objectBytes = GC.GetAllocatedBytesForCurrentThread() - before;
        GC.KeepAlive(probe);

        // A request and a response, then idle: both rings are back in the pool.
        pair.Connect();
        Assert.True(pair.Transfer(pair.Client, pair.Server, 500, 92));
        Assert.True(pair.Transfer(pair.Server, pair.Client, 5_000, 93));
        pair.Link.Advance(1_000);
        Assert.False(pair.Client.HoldsBuffers);
        Assert.False(pair.Server.HoldsBuffers);
        Assert.True(pair.Server.IsScheduled); // only the keep-alive deadline, on the shared wheel
        output.WriteLine($"idle ESTABLISHED connection: {objectBytes} bytes (object incl. header), no buffers held");
        Assert.True(objectBytes <= 1024, $"{objectBytes} bytes");
    }
}
