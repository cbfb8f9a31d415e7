using System.Security.Cryptography;
using KcpKestrel.Core.Arq;

namespace KcpKestrel.Core.Tests.Arq;

/// <summary>rcv_buf and rcv_queue under a receive budget: what does not fit is neither held nor acknowledged.</summary>
public sealed class KcpReceiveBudgetTests
{
    private const uint Conv = 0x0BAD_F00D;

    [Fact]
    public void Input_PushOverBudget_IsNeitherBufferedNorAcked()
    {
        // Room for two segment buffers (1,000-byte payloads take 1,024-byte pooled arrays).
        var budget = new TestReceiveBudget(2 * 1024);
        var output = new CapturingOutput();
        using var kcp = new KcpControlBlock(Conv, output) { ReceiveBudget = budget };
        var payload = new byte[1000];

        // Everything but rcv_nxt (sn 0), as a peer that wants to pin memory sends it.
        foreach (var sn in new uint[] { 1, 2, 3 })
        {
            Assert.Equal(KcpInputResult.Ok, kcp.Input(Push(sn, payload), 0));
        }

        kcp.Flush(ackOnly: true);
        Assert.Equal([1u, 2u], AckedSns(output.Take()));
        Assert.Equal(2, kcp.Statistics.ReceiveBufferLength);
        Assert.Equal(1ul, kcp.Statistics.RejectedOverBudget);
        Assert.Equal(2 * 1024, budget.Held);

        // Room again: the sender's retransmission of sn 3 is held and acknowledged.
        budget.Limit = 8 * 1024;
        Assert.Equal(KcpInputResult.Ok, kcp.Input(Push(3, payload), 0));
        kcp.Flush(ackOnly: true);
        Assert.Equal([3u], AckedSns(output.Take()));

        // Ending the session gives everything back.
        kcp.ReleaseReceived();
        Assert.Equal(0, budget.Held);
    }

    [Fact]
    public void Window_IsCutToTheBudget()
    {
        var budget = new TestReceiveBudget(64 * 1024);
        var output = new CapturingOutput();
        using var kcp = new KcpControlBlock(Conv, output) { ReceiveBudget = budget };
        kcp.SetWindowSize(128, 1024);
        kcp.Input(Push(0, new byte[100]), 0);
        kcp.Flush(ackOnly: true);
        var wnd = BitConverter.ToUInt16(output.Take()[^1], 6);

        // 64 KiB less the 128-byte buffer held and the ring's room to reach 1,024 slots, in 2 KiB (mss 1376) units.
        Assert.InRange(wnd, 1, (64 * 1024) / 2048);
    }

    [Theory]
    [InlineData(64 * 1024, 0.0)]
    [InlineData(256 * 1024, 0.05)]
    public void PeerKeepingToTheWindow_NeverHitsTheBudget_AndEveryByteArrives(int budgetBytes, double loss)
    {
        var budget = new TestReceiveBudget(budgetBytes);
        using var pair = new LinkedPair(new SimulatedLink(seed: 7, loss, delayMs: 20, jitterMs: 5, duplication: 0), Conv, 1000, budget);
        pair.A.SetWindowSize(1024, 1024);
        pair.B.SetWindowSize(1024, 1024);
        pair.A.SetNoDelay(1, 10, 2, nc: true);
        pair.B.SetNoDelay(1, 10, 2, nc: true);
        pair.A.StreamMode = pair.B.StreamMode = true;

        var data = RandomNumberGenerator.GetBytes(2 * 1024 * 1024);
        var received = new MemoryStream();
        var buffer = new byte[1 << 20];
        var sent = 0;
        for (var step = 0; step < 400_000 && received.Length < data.Length; step++)
        {
            while (sent < data.Length && pair.A.WaitSnd < 2048)
            {
                var n = Math.Min(64 * 1024, data.Length - sent);
                pair.A.Send(data.AsSpan(sent, n));
                sent += n;
            }

            Assert.Null(pair.Step());

            // A slow app: reads only every 50th step, so the queue fills and the budget is what limits.
            if (step % 50 == 0)
            {
                int n;
                while ((n = pair.B.Receive(buffer)) > 0)
                {
                    received.Write(buffer, 0, n);
                }
            }

            pair.Advance(10);
        }

        Assert.Equal(SHA256.HashData(data), SHA256.HashData(received.ToArray()));
        Assert.Equal(0, budget.Refused);
        Assert.Equal(0ul, pair.B.Statistics.RejectedOverBudget);
        Assert.True(budget.PeakHeld <= budgetBytes);
    }

    [Fact]
    public void BudgetShrinkingUnderAPeer_DropsUnacked_ThenRetransmissionsDeliverEverything()
    {
        var budget = new TestReceiveBudget(4L << 20);
        using var pair = new LinkedPair(new SimulatedLink(seed: 3, loss: 0, delayMs: 20, jitterMs: 0, duplication: 0), Conv, 1000, budget);
        pair.A.SetWindowSize(1024, 1024);
        pair.B.SetWindowSize(1024, 1024);
        pair.A.SetNoDelay(1, 10, 2, nc: true);
        pair.A.StreamMode = pair.B.StreamMode = true;

        var data = RandomNumberGenerator.GetBytes(1024 * 1024);
        pair.A.Send(data);
        var received = new MemoryStream();
        var buffer = new byte[1 << 20];
        var shrunk = false;
        for (var step = 0; step < 100_000 && received.Length < data.Length; step++)
        {
            Assert.Null(pair.Step());
            if (!shrunk && pair.A.SndUna > 0)
            {
                // A has its first acks, with the large window B offered then, and has sent into it.
                shrunk = true;

                // What is in flight now no longer fits.
                budget.Limit = 128 * 1024;
            }

            if (step > 500 && step % 20 == 0)
            {
                int n;
                while ((n = pair.B.Receive(buffer)) > 0)
                {
                    received.Write(buffer, 0, n);
                }
            }

            pair.Advance(10);
        }

        Assert.True(pair.B.Statistics.RejectedOverBudget > 0, $"nothing was dropped over budget: shrunk {shrunk}, refused {budget.Refused}, peak {budget.PeakHeld}, received {received.Length}");
        Assert.Equal(SHA256.HashData(data), SHA256.HashData(received.ToArray()));
    }

    private static byte[] Push(uint sn, byte[] payload)
    {
        var bytes = new byte[SegmentHeader.Size + payload.Length];
        new SegmentHeader(Conv, KcpCommand.Push, 0, 1024, 0, sn, 0, (uint)payload.Length).Write(bytes);
        payload.CopyTo(bytes.AsSpan(SegmentHeader.Size));
        return bytes;
    }

    private static List<uint> AckedSns(List<byte[]> datagrams)
    {
        var sns = new List<uint>();
        foreach (var datagram in datagrams)
        {
            var span = datagram.AsSpan();
            while (SegmentHeader.TryRead(span, out var h))
            {
                if (h.Cmd == KcpCommand.Ack)
                {
                    sns.Add(h.Sn);
                }

                span = span[(SegmentHeader.Size + (int)h.Len)..];
            }
        }

        return sns;
    }
}
