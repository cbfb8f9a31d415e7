using KcpKestrel.Transport.UserTcp.Tcp;
using Xunit.Abstractions;

namespace KcpKestrel.Transport.UserTcp.Tests.Stack;

/// <summary>What an idle connection costs the stack, measured on the heap after a full GC.</summary>
[Collection(MemoryMeasurementCollection.Name)]
public sealed class TcpStackIdleMemoryTests
{
    private readonly ITestOutputHelper _log;

    public TcpStackIdleMemoryTests(ITestOutputHelper log) => _log = log;

    [Fact]
    public void TenThousandIdleConnections_MemoryPerConnection()
    {
        const int count = 10_000;
        using var pair = new StackPair(4, new TcpStackOptions { SynBacklog = count }, new TcpStackOptions { SynBacklog = count });
        pair.Acceptor.Keep = false;
        var clients = new StreamEvents[count];

        // Connections open in batches, so the link's pool of in-flight segment buffers (64 KiB each) stays at one
        // batch's worth; a first batch warms it, the tables and the JIT before the measurement starts.
        const int batch = 250;
        var warm = new StreamEvents[batch];
        OpenBatch(pair, warm, 0, batch);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var before = GC.GetTotalMemory(true);

        for (var i = 0; i < count; i += batch)
        {
            OpenBatch(pair, clients, i, batch);
        }

        pair.Link.Advance(1_000); // let delayed ACKs and any other short timer settle
        Assert.Equal(count + batch, pair.Acceptor.AcceptedCount);

        var after = GC.GetTotalMemory(true);
        var perConnection = (after - before) / (2.0 * count);
        _log.WriteLine($"{count} idle connections each side: {after - before} bytes more after a full GC, {perConnection:F0} bytes per connection (client and server side each, their test events included)");
        var holding = clients.Count(c => c.Connection!.HoldsBuffers);
        _log.WriteLine($"client connections holding a buffer while idle: {holding}; wheel entries client {pair.Link.A.Timers.Count} server {pair.Link.B.Timers.Count}");
        Assert.Equal(count + batch, pair.Client.ConnectionCount);
        Assert.Equal(count + batch, pair.Server.ConnectionCount);
        Assert.Equal(0, holding);
        GC.KeepAlive(clients);
        GC.KeepAlive(warm);
    }

    private static void OpenBatch(StackPair pair, StreamEvents[] clients, int start, int length)
    {
        for (var i = start; i < start + length; i++)
        {
            clients[i] = pair.Connect();
        }

        Assert.True(
            pair.RunUntil(() => Array.TrueForAll(clients[start..(start + length)], c => c.IsEstablished) && pair.Link.InFlightCount == 0, 60_000),
            TcpStackEndToEndTests.Describe(pair));
    }
}
