using KcpKestrel.Transport.UserTcp.Tcp;
using Xunit.Abstractions;

namespace KcpKestrel.Transport.UserTcp.Tests.Stack;

/// <summary>Two stacks over the seeded segment link: transfers, many connections, TIME_WAIT expiry, idle memory.</summary>
public sealed class TcpStackEndToEndTests
{
    private const int MiB = 1 << 20;
    private readonly ITestOutputHelper _log;

    public TcpStackEndToEndTests(ITestOutputHelper log) => _log = log;

    [Theory]
    [InlineData(1, 0.0)]
    [InlineData(2, 0.02)]
    public void OneMiBEachWay_ArrivesIntact_AndTimeWaitExpires(int seed, double loss)
    {
        using var pair = new StackPair(seed);
        pair.Link.Impair(loss, duplicate: loss / 2, reorder: loss, delayMs: 2);
        pair.Acceptor.Configure = e =>
        {
            e.ToSend = MiB;
            e.ShutdownWhenSent = true;
        };

        var client = pair.Connect(MiB, shutdownWhenSent: true);
        Assert.True(
            pair.RunUntil(() => client.ReceiveComplete && pair.Acceptor.Accepted is [{ ReceiveComplete: true }], 600_000),
            $"transfer stalled: client sent {client.Sent} received {client.Received}, server {Describe(pair)}");

        var server = Assert.Single(pair.Acceptor.Accepted);
        Assert.Equal(MiB, client.Received);
        Assert.Equal(MiB, server.Received);
        Assert.Equal(0, client.Mismatches);
        Assert.Equal(0, server.Mismatches);

        // Both sides closed; the active closer(s) wait out TIME_WAIT, then every flow is gone.
        Assert.True(pair.RunUntil(() => pair.Client.ConnectionCount == 0 && pair.Server.ConnectionCount == 0, 200_000), Describe(pair));
        Assert.Equal(TcpCloseReason.Closed, client.ClosedReason);
        Assert.Equal(TcpCloseReason.Closed, server.ClosedReason);
        Assert.Equal(0, pair.Server.HalfOpenCount);
    }

    [Fact]
    public void AThousandSequentialConnections_OpenAndCloseCleanly_AndTimeWaitEmptiesTheTable()
    {
        using var pair = new StackPair(3);
        pair.Acceptor.Keep = false;
        pair.Acceptor.Configure = e => e.ShutdownWhenReceiveComplete = true;
        var ports = new HashSet<ushort>();
        for (var i = 0; i < 1_000; i++)
        {
            var client = pair.Connect(toSend: 100, shutdownWhenSent: true);
            var connection = client.Connection!;
            Assert.True(ports.Add(connection.Flow.LocalPort), "an ephemeral port was reused while its flow lived");
            Assert.InRange(connection.Flow.LocalPort, (ushort)32768, (ushort)60999);
            Assert.True(
                pair.RunUntil(() => connection.State is TcpState.TimeWait or TcpState.Closed && pair.Server.ConnectionCount == 0, 10_000),
                $"connection {i}: client {connection.State}, {Describe(pair)}");
        }

        Assert.Equal(1_000, pair.Acceptor.AcceptedCount);
        Assert.Equal(0, pair.Server.ConnectionCount);
        Assert.InRange(pair.Client.ConnectionCount, 1, 1_000); // the TIME_WAITs not yet expired

        pair.Link.Advance(new TcpConnectionOptions().TimeWaitMs + 1_000);
        Assert.Equal(0, pair.Client.ConnectionCount);
        Assert.Equal(0, pair.Server.ConnectionCount);
        Assert.Equal(1_000, pair.Server.Counters.PassiveOpens);
        Assert.Equal(1_000, pair.Client.Counters.ActiveOpens);
        Assert.Equal(0, pair.Client.Counters.ResetsSent + pair.Server.Counters.ResetsSent);
    }

    [Fact]
    public void TenThousandIdleConnections_MemoryPerConnection()
    {
        const int count = 10_000;
        using var pair = new StackPair(4, new TcpStackOptions { SynBacklog = count }, new TcpStackOptions { SynBacklog = count });
        pair.Acceptor.Keep = false;
        var clients = new StreamEvents[count];

        // Warm the link, the tables and the JIT with one connection, then measure from a full GC.
        var warm = pair.Connect();
        Assert.True(pair.RunUntil(() => warm.IsEstablished && pair.Acceptor.AcceptedCount == 1, 10_000));
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var before = GC.GetTotalMemory(true);

        for (var i = 0; i < count; i++)
        {
            clients[i] = pair.Connect();
        }

        Assert.True(
            pair.RunUntil(() => pair.Acceptor.AcceptedCount == count + 1 && Array.TrueForAll(clients, c => c.IsEstablished), 60_000),
            Describe(pair));
        pair.Link.Advance(1_000); // let delayed ACKs and any other short timer settle

        var after = GC.GetTotalMemory(true);
        var perConnection = (after - before) / (2.0 * count);
        _log.WriteLine($"{count} idle connections each side: {after - before} bytes more after a full GC, {perConnection:F0} bytes per connection (client and server side each, their test events included)");
        Assert.Equal(count + 1, pair.Client.ConnectionCount);
        Assert.Equal(count + 1, pair.Server.ConnectionCount);
        GC.KeepAlive(clients);
    }

    private static string Describe(StackPair pair) =>
        $"client flows {pair.Client.ConnectionCount}, server flows {pair.Server.ConnectionCount}, half-open {pair.Server.HalfOpenCount}, in flight {pair.Link.InFlightCount}, now {pair.Link.Now}";
}
