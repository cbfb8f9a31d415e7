using System.Security.Cryptography;
using KcpKestrel.Transport.UserTcp.Tcp;

namespace KcpKestrel.Transport.UserTcp.Tests.Connection;

/// <summary>Both directions at once with back-pressure, as an echo server behind a pipe does it.</summary>
public class EchoTests
{
    [Theory]
    [InlineData(0.0, 16 * 1024, 111)]
    [InlineData(0.0, 256 * 1024, 112)]
    [InlineData(0.05, 16 * 1024, 113)]
    [InlineData(0.05, 256 * 1024, 114)]
    public void EchoOfAMegabyteWithBackPressureCompletes(double loss, int buffers, int seed)
    {
        var options = new TcpConnectionOptions { ReceiveBufferSize = buffers, SendBufferSize = buffers };
        var pair = new ConnectionPair(seed, options, options);
        pair.Connect();
        pair.Link.Impair(loss, duplicate: loss / 2, reorder: loss, delayMs: 2);

        // Options come out of the MSS: a full data segment that also carried SACK blocks would be larger than the MTU
        // (the packet writer drops it), which stalled echoes under loss on real links.
        var oversize = 0;
        bool WithinMss(in TcpFlowKey flow, in TcpHeader header, ReadOnlySpan<byte> payload)
        {
            var optionBytes = (header.Options.HasTimestamps ? 12 : 0) + (header.Options.SackCount > 0 ? 4 + (8 * header.Options.SackCount) : 0);
            if (payload.Length + optionBytes > options.Mss)
            {
                oversize++;
            }

            return true;
        }

        pair.Link.A.Filter = WithinMss;
        pair.Link.B.Filter = WithinMss;
        var server = pair.Server;
        var data = new byte[1 << 20];
        new Random(seed).NextBytes(data);
        var echoed = new byte[data.Length];
        var sent = 0;
        var got = 0;
        var pending = new byte[4096];
        var pendingCount = 0;
        var pendingOffset = 0;
        var done = pair.Link.RunUntil(
            () =>
            {
                // The server: echo what it reads, reading more only when the last chunk went out whole.
                while (true)
                {
                    if (pendingCount > 0)
                    {
                        var n = server.Send(pending.AsSpan(pendingOffset, pendingCount), pair.Now);
                        pendingOffset += n;
                        pendingCount -= n;
                        if (pendingCount > 0)
                        {
                            break;
                        }
                    }

                    pendingOffset = 0;
                    pendingCount = server.Receive(pending, pair.Now);
                    if (pendingCount == 0)
                    {
                        break;
                    }
                }

                // The client: write what fits, read what came back.
                if (sent < data.Length)
                {
                    sent += pair.Client.Send(data.AsSpan(sent, Math.Min(8192, data.Length - sent)), pair.Now);
                }

                got += pair.Client.Receive(echoed.AsSpan(got), pair.Now);
                return got == data.Length;
            },
            600_000);
        Assert.True(done, $"stalled: sent {sent}, echoed {got}; client {pair.Client.GetStatistics()}; server {server.GetStatistics()}");
        Assert.True(SHA256.HashData(echoed).AsSpan().SequenceEqual(SHA256.HashData(data)));
        Assert.Equal(0, oversize);
    }
}
