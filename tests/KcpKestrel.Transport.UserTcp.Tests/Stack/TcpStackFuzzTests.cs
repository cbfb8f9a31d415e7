using KcpKestrel.Transport.UserTcp.Tcp;
using Xunit.Abstractions;

namespace KcpKestrel.Transport.UserTcp.Tests.Stack;

/// <summary>Random segments at a live stack: no crash, bounded state, and the established stream survives intact.</summary>
public sealed class TcpStackFuzzTests
{
    private readonly ITestOutputHelper _log;

    public TcpStackFuzzTests(ITestOutputHelper log) => _log = log;

    [Theory]
    [InlineData(21)]
    [InlineData(22)]
    public void RandomSegments_NeitherCrashNorLeak_AndTheStreamSurvives(int seed)
    {
        const int backlog = 16;
        var serverOptions = new TcpStackOptions { SynBacklog = backlog, MaxConnections = 200 };
        using var pair = new StackPair(seed, serverOptions: serverOptions);
        pair.Acceptor.Configure = e => e.ToSend = 50_000;
        var client = pair.Connect(toSend: 50_000);
        Assert.True(pair.RunUntil(() => client.Received == 50_000 && pair.Acceptor.Accepted is [{ Received: 50_000 }], 10_000));
        var server = pair.Acceptor.Accepted[0];
        var flow = server.Connection!.Flow;

        var random = new Random(seed);
        var payload = new byte[1460];
        random.NextBytes(payload);
        for (var i = 0; i < 60_000; i++)
        {
            var target = random.Next(3) switch
            {
                0 => flow,
                1 => new TcpFlowKey(flow.LocalAddress, StackPair.ServerPort, flow.RemoteAddress + (UInt128)random.Next(1, 1000), (ushort)random.Next(1, 65536), false),
                _ => new TcpFlowKey(flow.LocalAddress, (ushort)random.Next(1, 65536), flow.RemoteAddress, (ushort)random.Next(1, 65536), false),
            };
            pair.Link.B.Inject(target, RandomHeader(random), payload.AsSpan(0, random.Next(4) == 0 ? random.Next(payload.Length + 1) : 0));
            if (i % 1_000 == 0)
            {
                pair.Link.Advance(5);
                Assert.InRange(pair.Server.HalfOpenCount, 0, backlog);
                Assert.InRange(pair.Server.ConnectionCount, 1, serverOptions.MaxConnections);
            }
        }

        var c = pair.Server.Counters;
        _log.WriteLine($"invalid flags {c.DroppedInvalidFlags}, no connection {c.DroppedNoConnection}, bad cookie {c.DroppedBadCookie}, resets sent {c.ResetsSent} (limited {c.ResetsRateLimited}), cookies {c.SynCookiesSent}, passive opens {c.PassiveOpens}, max-connection drops {c.DroppedMaxConnections}, out of window {c.DroppedOutOfWindow}, RST ignored {c.RstIgnored}, challenge ACKs {c.ChallengeAcksSent} (limited {c.ChallengeAcksLimited}), PAWS {c.DroppedPaws}");

        // The stream still works both ways, byte for byte.
        Assert.Equal(TcpState.Established, server.Connection.State);
        server.ToSend = client.ToSend = 100_000;
        client.OnSendable(client.Connection!);
        server.OnSendable(server.Connection);
        Assert.True(pair.RunUntil(() => client.Received == 100_000 && server.Received == 100_000, 60_000), TcpStackEndToEndTests.Describe(pair));
        Assert.Equal(0, client.Mismatches + server.Mismatches);

        // Whatever the junk opened gives up in time; only the real connection is left.
        Assert.True(pair.RunUntil(() => pair.Server.ConnectionCount == 1, 900_000), TcpStackEndToEndTests.Describe(pair));
        Assert.Equal(0, pair.Server.HalfOpenCount);
    }

    private static TcpHeader RandomHeader(Random random)
    {
        var header = default(TcpHeader);
        header.Flags = (TcpFlags)random.Next(256);
        header.Seq = (uint)random.NextInt64(1L << 32);
        header.Ack = (uint)random.NextInt64(1L << 32);
        header.Window = (ushort)random.Next(65536);
        header.Urgent = (ushort)random.Next(65536);
        if (random.Next(2) == 0)
        {
            header.Options.Mss = (ushort)random.Next(65536);
            header.Options.HasWindowScale = random.Next(2) == 0;
            header.Options.WindowScale = (byte)random.Next(15);
            header.Options.SackPermitted = random.Next(2) == 0;
            header.Options.HasTimestamps = random.Next(2) == 0;
            header.Options.TsVal = (uint)random.NextInt64(1L << 32);
            header.Options.TsEcr = (uint)random.NextInt64(1L << 32);
            header.Options.SackCount = (byte)random.Next(5);
            for (var i = 0; i < header.Options.SackCount; i++)
            {
                var start = (uint)random.NextInt64(1L << 32);
                header.Options.Sack[i] = new SackBlock(start, start + (uint)random.Next(1, 100_000));
            }
        }

        return header;
    }
}
