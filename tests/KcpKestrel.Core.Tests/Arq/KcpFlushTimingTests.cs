using KcpKestrel.Core.Arq;

namespace KcpKestrel.Core.Tests.Arq;

/// <summary>When retransmissions and acks leave (kcp-go's session flushes at min(rto, interval) and after each input).</summary>
public sealed class KcpFlushTimingTests
{
    private const uint Conv = 0x0A0B0C0D;

    [Fact]
    public void Update_RetransmissionTimeoutOffTheIntervalGrid_ResendsWhenItExpires()
    {
        var output = new CapturingOutput();
        using var kcp = new KcpControlBlock(Conv, output);
        KcpNoDelayPreset.Fast3.ApplyTo(kcp);
        kcp.Update(3); // the interval grid: 3, 13, 23, ...
        kcp.Send([1]);
        kcp.FlushAt(8); // sent between ticks (a flush after input or an app write): resend due at 8 + rto
        Assert.Single(output.Take());
        var due = 8 + kcp.Statistics.Rto;
        Assert.NotEqual(0, (int)(due - 3) % 10); // due off the grid, or this test proves nothing

        for (var t = 9u; t < due; t++)
        {
            kcp.Update(t); // every 1 ms tick, the interval's grid included
        }

        Assert.Empty(output.Take());
        kcp.Update(due);

        Assert.Single(output.Take());
        Assert.Equal(1UL, kcp.Statistics.TimeoutRetransmits);
    }

    [Fact]
    public void Update_BeforeAnyResendIsDue_SendsNothingBetweenTicks()
    {
        var output = new CapturingOutput();
        using var kcp = new KcpControlBlock(Conv, output);
        KcpNoDelayPreset.Fast3.ApplyTo(kcp);
        kcp.Update(3);
        kcp.Send([1]);
        kcp.FlushAt(8);
        output.Take();

        kcp.Update(9);
        kcp.Update(12);

        Assert.Empty(output.Take());
        Assert.Equal(0UL, kcp.Statistics.Retransmits);
    }

    [Theory]
    [InlineData(true, 0UL)]
    [InlineData(false, 16UL)]
    public void Flush_SegmentExpiresWhileAcksOfEarlierOnesArrive_WaitsWhenHeld(bool hold, ulong timeouts)
    {
        var output = new CapturingOutput();
        using var kcp = new KcpControlBlock(Conv, output) { HoldTimeoutsWhileAcked = hold };
        KcpNoDelayPreset.Fast3.ApplyTo(kcp);
        SendBurst(kcp, (int)AckClock.MinInFlight + 1); // one burst: sn 0 to 16, rto 200
        output.Take();

        // sn 0's ack comes late (a queue at the receiver), just before sn 1 would time out; sn 1's is still queued.
        Assert.Equal(KcpInputResult.Ok, kcp.Input(Ack(sn: 0, una: 1, ts: 0), 199));
        kcp.FlushAt(200);

        Assert.Equal(timeouts, kcp.Statistics.TimeoutRetransmits);
    }

    [Fact]
    public void Flush_AcksStopped_TimesOutOneRtoAfterTheLast()
    {
        var output = new CapturingOutput();
        using var kcp = new KcpControlBlock(Conv, output);
        KcpNoDelayPreset.Fast3.ApplyTo(kcp);
        SendBurst(kcp, (int)AckClock.MinInFlight + 1);
        output.Take();
        Assert.Equal(KcpInputResult.Ok, kcp.Input(Ack(sn: 0, una: 1, ts: 0), 199));
        var rto = kcp.Statistics.Rto;

        kcp.FlushAt(199 + rto - 1);
        Assert.Equal(0UL, kcp.Statistics.TimeoutRetransmits);
        kcp.FlushAt(199 + rto);

        Assert.Equal((ulong)AckClock.MinInFlight, kcp.Statistics.TimeoutRetransmits);
    }

    [Fact]
    public void Flush_ShortMessageInFlight_KeepsEachSegmentsOwnTimer()
    {
        var output = new CapturingOutput();
        using var kcp = new KcpControlBlock(Conv, output);
        KcpNoDelayPreset.Fast3.ApplyTo(kcp);
        SendBurst(kcp, 4); // a request of four segments
        output.Take();
        Assert.Equal(KcpInputResult.Ok, kcp.Input(Ack(sn: 2, una: 3, ts: 0), 199)); // its last one was lost

        kcp.FlushAt(200);

        Assert.Equal(1UL, kcp.Statistics.TimeoutRetransmits);
    }

    private static void SendBurst(KcpControlBlock kcp, int segments)
    {
        kcp.SetWindowSize(32, 32);
        for (var i = 0; i < segments; i++)
        {
            kcp.Send([(byte)i]);
        }

        kcp.FlushAt(0);
    }

    [Fact]
    public void Input_FlushAfterInputOff_LeavesAcksToOneFlushOfTheBatch()
    {
        var output = new CapturingOutput();
        using var kcp = new KcpControlBlock(Conv, output) { FlushAfterInput = false };
        KcpNoDelayPreset.Fast3.ApplyTo(kcp);
        for (var sn = 0u; sn < 3; sn++)
        {
            var push = new byte[SegmentHeader.Size + 1];
            new SegmentHeader(Conv, KcpCommand.Push, 0, 32, 0, sn + 5, 0, 1).Write(push); // out of order: each acked
            Assert.Equal(KcpInputResult.Ok, kcp.Input(push, 10, ackNoDelay: true));
        }

        Assert.Empty(output.Datagrams);
        kcp.FlushAt(10);

        var datagram = Assert.Single(output.Take());
        Assert.Equal(3 * SegmentHeader.Size, datagram.Length);
    }

    private static byte[] Ack(uint sn, uint una, uint ts)
    {
        var bytes = new byte[SegmentHeader.Size];
        new SegmentHeader(Conv, KcpCommand.Ack, 0, 32, ts, sn, una, 0).Write(bytes);
        return bytes;
    }
}
