using System.Net;
using KcpKestrel.Shared;
using KcpKestrel.Transport.UserTcp.Tcp;
using Xunit.Abstractions;

namespace KcpKestrel.Transport.UserTcp.Tests.Stack;

/// <summary>SYN floods against the stack: the heap stays flat (cookies keep no state).</summary>
[Collection(MemoryMeasurementCollection.Name)]
public sealed class TcpStackFloodMemoryTests
{
    private readonly RecordingSegmentOutput _output = new();
    private readonly ITestOutputHelper _log;

    public TcpStackFloodMemoryTests(ITestOutputHelper log) => _log = log;

    [Fact]
    public void AFloodWithNoBacklog_IsAnsweredStatelessly_AndBoundedInMemory()
    {
        var stack = new TcpStack(new TcpStackOptions { SynCookies = SynCookieMode.WhenBacklogFull, SynBacklog = 0 }, _output, new TimerWheel(), new byte[16]);
        stack.Listen(new IPEndPoint(IPAddress.Any, 8080), new RecordingAcceptor());
        _output.Keep = false;
        var random = new Random(3);
        var syn = StackSegments.Syn();
        TcpStackCookieTests.Flood(stack, random, syn, 1_000);

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var before = GC.GetTotalMemory(true);
        TcpStackCookieTests.Flood(stack, random, syn, 100_000);
        var after = GC.GetTotalMemory(true);

        Assert.Equal(0, stack.ConnectionCount);
        Assert.Equal(0, stack.HalfOpenCount);
        Assert.Equal(101_000, stack.Counters.SynCookiesSent);
        Assert.Equal(101_000, _output.Count);
        _log.WriteLine($"100,000 cookie SYNs with no backlog: heap {after - before:+#;-#;0} bytes after a full GC");
        Assert.InRange(after - before, long.MinValue, 64 * 1024);
    }

    [Fact]
    public void ASynFlood_FillsTheBacklogOnly_ThenCookiesServeARealClient()
    {
        const int backlog = 64;
        using var pair = new StackPair(5, serverOptions: new TcpStackOptions { SynBacklog = backlog });

        // Spoofed sources never answer: the server's replies to them go nowhere.
        pair.Link.B.Filter = static (in TcpFlowKey flow, in TcpHeader header, ReadOnlySpan<byte> payload) => false;
        var random = new Random(6);
        var syn = StackSegments.Syn();
        var local = TcpFlowKey.ToUInt128(StackPair.ServerAddress);
        var address = new byte[4];
        void Flood(int count)
        {
            for (var i = 0; i < count; i++)
            {
                random.NextBytes(address);
                address[0] = 100; // never the client's address
                syn.Seq = (uint)random.Next();
                pair.Link.B.Inject(new TcpFlowKey(local, StackPair.ServerPort, TcpFlowKey.FromIPv4(address), (ushort)random.Next(1, 65536), false), syn, default);
            }
        }

        Flood(1_000);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var before = GC.GetTotalMemory(true);
        Flood(100_000);
        var after = GC.GetTotalMemory(true);
        _log.WriteLine($"100,000 flood SYNs: heap {after - before:+#;-#;0} bytes after a full GC; half-open {pair.Server.HalfOpenCount}, cookies {pair.Server.Counters.SynCookiesSent}");

        Assert.Equal(backlog, pair.Server.HalfOpenCount);
        Assert.Equal(backlog, pair.Server.ConnectionCount);
        Assert.Equal(101_000 - backlog, pair.Server.Counters.SynCookiesSent);
        Assert.InRange(after - before, long.MinValue, 256 * 1024);

        // A real client during the flood gets a cookie, and its connection works.
        pair.Link.B.Filter = null;
        pair.Acceptor.Configure = e => e.ToSend = 50_000;
        var client = pair.Connect(toSend: 50_000);
        Assert.True(pair.RunUntil(() => client.Received == 50_000 && pair.Acceptor.Accepted is [{ Received: 50_000 }], 30_000));
        Assert.Equal(1, pair.Server.Counters.SynCookiesAccepted);
        Assert.Equal(0, client.Mismatches);

        // The flood's half-open connections give up on their own (SYN-ACK retries run out).
        Assert.True(pair.RunUntil(() => pair.Server.HalfOpenCount == 0, 600_000), $"half-open {pair.Server.HalfOpenCount}");
        Assert.Equal(1, pair.Server.ConnectionCount);
    }
}
