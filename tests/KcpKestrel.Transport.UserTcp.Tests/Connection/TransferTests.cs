using KcpKestrel.Transport.UserTcp.Tcp;
using Xunit.Abstractions;

namespace KcpKestrel.Transport.UserTcp.Tests.Connection;

public class TransferTests(ITestOutputHelper output)
{
    private const int FourMiB = 4 * 1024 * 1024;

    [Theory]
    [InlineData(0.0, 11)]
    [InlineData(0.02, 12)]
    [InlineData(0.10, 13)]
    public void FourMiBEachWayIsByteExactUnderLossReorderAndDuplication(double loss, int seed)
    {
        var pair = new ConnectionPair(seed);
        pair.Connect();
        pair.Link.Impair(loss, duplicate: loss > 0 ? 0.02 : 0, reorder: loss > 0 ? 0.05 : 0, delayMs: 5);
        Assert.True(pair.Transfer(pair.Client, pair.Server, FourMiB, seed), "client to server: hash mismatch");
        Assert.True(pair.Transfer(pair.Server, pair.Client, FourMiB, seed + 100), "server to client: hash mismatch");
        var c = pair.ClientOwner.Counters;
        var s = pair.ServerOwner.Counters;
        output.WriteLine($"loss {loss}: sim {pair.Now - 1000} ms; client retransmits {c.Retransmits} fast {c.FastRetransmits} sack {c.SackRecoveries} rto {c.RtoExpirations}; server retransmits {s.Retransmits} fast {s.FastRetransmits} sack {s.SackRecoveries} rto {s.RtoExpirations}; ooo {s.OutOfOrderSegments}/{c.OutOfOrderSegments} dup {s.DuplicateSegments}/{c.DuplicateSegments}");
        // The statistics count each byte once however often it was sent.
        Assert.Equal(FourMiB, pair.Client.GetStatistics().BytesSent);
        Assert.Equal(FourMiB, pair.Server.GetStatistics().BytesReceived);
        Assert.Equal(FourMiB, pair.Server.GetStatistics().BytesSent);
        if (loss > 0)
        {
            Assert.True(c.Retransmits > 0 && s.Retransmits > 0);
            Assert.True(c.SackRecoveries > 0 && s.SackRecoveries > 0);
        }
        else
        {
            Assert.Equal(0, c.Retransmits + s.Retransmits);
        }
    }

    [Fact]
    public void SackRecoveryRetransmitsLessThanNewRenoAlone()
    {
        // Several losses per window (the first transmission of 3 segments in every 16), where NewReno repairs one
        // hole per round trip and falls back on the RTO's go-back-N while SACK repairs them all in one.
        long Run(bool sack)
        {
            var options = new TcpConnectionOptions { Sack = sack };
            var pair = new ConnectionPair(21, options, options);
            pair.Connect();
            pair.Link.Impair(0, delayMs: 10);
            var dropped = new HashSet<uint>();
            pair.Link.A.Filter = (in TcpFlowKey f, in TcpHeader h, ReadOnlySpan<byte> p) =>
                p.Length == 0 || (h.Seq / 1448 % 16) is not (3 or 6 or 11) || !dropped.Add(h.Seq);
            Assert.True(pair.Transfer(pair.Client, pair.Server, 2 * 1024 * 1024, 21));
            var c = pair.ClientOwner.Counters;
            output.WriteLine($"sack {sack}: retransmits {c.Retransmits} for {dropped.Count} losses, fast {c.FastRetransmits}, sack recoveries {c.SackRecoveries}, rto {c.RtoExpirations}, sim {pair.Now - 1000} ms");
            if (sack)
            {
                Assert.True(c.SackRecoveries > 0);
            }
            else
            {
                Assert.Equal(0, c.SackRecoveries);
            }

            return c.Retransmits;
        }

        var withSack = Run(true);
        var without = Run(false);
        Assert.True(withSack < without, $"with SACK {withSack} retransmits, without {without}");
    }

    [Fact]
    public void WithoutTimestampsOrWindowScalingStillTransfers()
    {
        var options = new TcpConnectionOptions { Timestamps = false, WindowScaling = false, Sack = false };
        var pair = new ConnectionPair(31, options, new TcpConnectionOptions());
        pair.Connect();
        pair.Link.Impair(0.02, reorder: 0.02, delayMs: 3);
        Assert.True(pair.Transfer(pair.Client, pair.Server, 1024 * 1024, 31));
        Assert.True(pair.Transfer(pair.Server, pair.Client, 1024 * 1024, 32));
        Assert.True(pair.Client.GetStatistics().SmoothedRttMs > 0);
    }

    [Fact]
    public void ZeroWindowIsProbedAndRecovers()
    {
        var server = new TcpConnectionOptions { ReceiveBufferSize = 16 * 1024 };
        var pair = new ConnectionPair(41, null, server);
        pair.Connect();
        var data = new byte[200_000];
        new Random(41).NextBytes(data);
        var sent = pair.Client.Send(data, pair.Now);

        // Nobody reads: the window closes and the client probes with backoff.
        pair.Link.Advance(20_000);
        Assert.Equal(16 * 1024, pair.Server.ReceivableBytes);
        Assert.Equal(0, pair.Client.GetStatistics().PeerWindowBytes);
        var probes = pair.ClientOwner.Counters.ZeroWindowProbes;
        Assert.True(probes >= 3 && probes < 20, $"{probes} probes in 20 s");
        Assert.Equal(TcpState.Established, pair.Client.State);

        // The app reads: window updates reopen the flow and everything arrives intact.
        var received = new byte[data.Length];
        var got = 0;
        Assert.True(pair.Link.RunUntil(
            () =>
            {
                while (sent < data.Length)
                {
                    var n = pair.Client.Send(data.AsSpan(sent), pair.Now);
                    if (n == 0)
                    {
                        break;
                    }

                    sent += n;
                }

                got += pair.Server.Receive(received.AsSpan(got), pair.Now);
                return got == data.Length;
            },
            60_000));
        Assert.True(received.AsSpan().SequenceEqual(data));
    }

    [Fact]
    public void RateLimitPacesTheStream()
    {
        var client = new TcpConnectionOptions { RateLimitBytesPerSecond = 1_000_000 };
        var pair = new ConnectionPair(51, client, null);
        pair.Connect();
        var start = pair.Now;
        Assert.True(pair.Transfer(pair.Client, pair.Server, 1_000_000, 51));
        var elapsed = (int)(pair.Now - start);

        // Simulated clock: 1 MB at 1 MB/s, less the initial burst.
        Assert.InRange(elapsed, 900, 1_300);
    }
}
