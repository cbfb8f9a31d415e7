using System.Net;
using KcpKestrel.Tests.Shared.UserTcp;
using KcpKestrel.Transport.UserTcp.Tcp;
using Xunit.Abstractions;

namespace KcpKestrel.Transport.UserTcp.Tests.Stack;

/// <summary>What an idle connection costs the stack, measured on the heap after a full GC.</summary>
[Collection(MemoryMeasurementCollection.Name)]
public sealed class TcpStackIdleMemoryTests
{
    private const int IdlePort = 8081;
    private readonly ITestOutputHelper _log;

    public TcpStackIdleMemoryTests(ITestOutputHelper log) => _log = log;

    [Fact]
    public void FiftyThousandIdleConnections_CostUnderAKibibyteEach()
    {
        // 50,000 connections on each stack: two client addresses, as one destination has 28,232 ephemeral ports.
        const int count = 50_000;
        const int batch = 500;
        var options = new TcpStackOptions { SynBacklog = batch };
        using var pair = new StackPair(4, options, options);
        var clientEvents = new RecordingConnectionEvents();
        var acceptor = new CountingAcceptor(new RecordingConnectionEvents());
        pair.Server.Listen(new IPEndPoint(IPAddress.Any, IdlePort), acceptor);
        IPEndPoint[] locals = [new(StackPair.ClientAddress, 0), new(IPAddress.Parse("10.77.0.3"), 0)];
        var server = new IPEndPoint(StackPair.ServerAddress, IdlePort);
        var connections = new TcpConnection[count + batch];

        // Connections open in batches, so the link's pool of in-flight segment buffers (64 KiB each) stays at one
        // batch's worth; a first batch warms it, the tables and the JIT before the measurement starts.
        var opened = 0;
        void OpenBatch()
        {
            var start = opened;
            for (var i = 0; i < batch; i++, opened++)
            {
                connections[opened] = pair.Client.Connect(locals[opened & 1], server, clientEvents, pair.Link.Now);
            }

            Assert.True(pair.Link.RunUntil(() => acceptor.Accepted == opened && pair.Link.InFlightCount == 0, 60_000), TcpStackEndToEndTests.Describe(pair));
        }

        OpenBatch();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var before = GC.GetTotalMemory(true);
        while (opened < count + batch)
        {
            OpenBatch();
        }

        pair.Link.Advance(1_000); // delayed ACKs and every other short timer run out
        var after = GC.GetTotalMemory(true);

        var perConnection = (after - before) / (2.0 * count);
        var holding = connections.Count(c => c.HoldsBuffers);
        _log.WriteLine($"{count:N0} idle connections on each of two stacks: heap +{after - before:N0} bytes after a full GC, {perConnection:F0} bytes per connection (TCP state, flow table, timer entry); {holding} hold a buffer; wheel entries {pair.Link.A.Timers.Count:N0} + {pair.Link.B.Timers.Count:N0}");
        Assert.Equal(count + batch, clientEvents.Established);
        Assert.Equal(count + batch, pair.Client.ConnectionCount);
        Assert.Equal(count + batch, pair.Server.ConnectionCount);
        Assert.All(connections, c => Assert.Equal(TcpState.Established, c.State));
        Assert.Equal(0, holding);
        Assert.InRange(perConnection, 0, 1024);

        // Disposing aborts every connection: the link loses the 100,000 resets (it would copy each into a 64 KiB buffer).
        pair.Link.A.Filter = pair.Link.B.Filter = static (in TcpFlowKey flow, in TcpHeader header, ReadOnlySpan<byte> payload) => false;
    }
}
