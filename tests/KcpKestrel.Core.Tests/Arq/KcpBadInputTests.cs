using CsCheck;
using KcpKestrel.Core.Arq;

namespace KcpKestrel.Core.Tests.Arq;

/// <summary>Malformed and forged input: a result code, a counter, no state change, no exception.</summary>
public sealed class KcpBadInputTests
{
    private const uint Conv = 0x51525354;

    private static byte[] Segment(KcpCommand cmd, uint sn, uint una = 0, ushort wnd = 32, int len = 0, uint conv = Conv, uint? lenField = null)
    {
        var bytes = new byte[SegmentHeader.Size + len];
        new SegmentHeader(conv, cmd, 0, wnd, 0, sn, una, lenField ?? (uint)len).Write(bytes);
        return bytes;
    }

    private static (KcpControlBlock Kcp, CapturingOutput Output) SenderWithThreeInFlight()
    {
        var output = new CapturingOutput();
        var kcp = new KcpControlBlock(Conv, output);
        kcp.SetNoDelay(1, 10, 2, true);
        for (var i = 0; i < 3; i++)
        {
            kcp.Send([(byte)i]);
        }

        kcp.FlushAt(0);
        output.Take();
        return (kcp, output);
    }

    [Fact]
    public void Truncated_IsRejected()
    {
        using var kcp = new KcpControlBlock(Conv, new CapturingOutput());
        Assert.Equal(KcpInputResult.Truncated, kcp.Input(new byte[23], 0));
        Assert.Equal(KcpInputResult.Truncated, kcp.Input([], 0));
        Assert.Equal(2UL, kcp.Statistics.RejectedTruncated);
    }

    [Fact]
    public void ForgedLength_IsRejectedWithoutAllocating()
    {
        using var kcp = new KcpControlBlock(Conv, new CapturingOutput());
        var forged = Segment(KcpCommand.Push, 0, len: 10, lenField: uint.MaxValue);
        var pastEnd = Segment(KcpCommand.Push, 0, len: 10, lenField: 11);
        kcp.Input(forged, 0);
        var before = GC.GetAllocatedBytesForCurrentThread();
        var first = kcp.Input(forged, 0);
        var second = kcp.Input(pastEnd, 0);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(KcpInputResult.LengthMismatch, first);
        Assert.Equal(KcpInputResult.LengthMismatch, second);
        Assert.Equal(3UL, kcp.Statistics.RejectedLengthMismatch);
        Assert.Equal(-1, kcp.PeekSize());
    }

    [Fact]
    public void WrongConvAndUnknownCommand_AreRejected()
    {
        using var kcp = new KcpControlBlock(Conv, new CapturingOutput());
        Assert.Equal(KcpInputResult.WrongConv, kcp.Input(Segment(KcpCommand.Push, 0, len: 1, conv: Conv + 1), 0));
        Assert.Equal(KcpInputResult.UnknownCommand, kcp.Input(Segment((KcpCommand)85, 0), 0));
        Assert.Equal(1UL, kcp.Statistics.RejectedWrongConv);
        Assert.Equal(1UL, kcp.Statistics.RejectedUnknownCommand);
        Assert.Equal(0, kcp.ReceiveQueueCount);
    }

    [Fact]
    public void MalformedSecondSegment_RejectsTheWholeDatagram()
    {
        var output = new CapturingOutput();
        using var kcp = new KcpControlBlock(Conv, output);
        var good = Segment(KcpCommand.Push, 0, len: 5);
        var bad = Segment(KcpCommand.Push, 1, conv: 99);
        Assert.Equal(KcpInputResult.WrongConv, kcp.Input([.. good, .. bad], 0));
        Assert.Equal(-1, kcp.PeekSize());
        kcp.FlushAt(0);
        Assert.Empty(output.Datagrams);
    }

    [Fact]
    public void PushFarOutsideTheWindow_IsRejectedAndNotAcked()
    {
        var output = new CapturingOutput();
        using var kcp = new KcpControlBlock(Conv, output);
        Assert.Equal(KcpInputResult.OutOfWindow, kcp.Input(Segment(KcpCommand.Push, 32, len: 1, wnd: 0), 0));
        Assert.Equal(KcpInputResult.OutOfWindow, kcp.Input(Segment(KcpCommand.Push, 0x8000_0000, len: 1), 0));
        Assert.Equal(2UL, kcp.Statistics.RejectedOutOfWindow);
        Assert.Equal(32, kcp.RemoteWindow);
        Assert.Equal(0u, kcp.RcvNxt);
        kcp.FlushAt(0);
        Assert.Empty(output.Datagrams);
        Assert.Null(kcp.CheckInvariants());
    }

    [Fact]
    public void AckForUnsentSn_AndUnaBeyondSndNxt_AreRejected()
    {
        var (kcp, _) = SenderWithThreeInFlight();
        using (kcp)
        {
            Assert.Equal(KcpInputResult.OutOfWindow, kcp.Input(Segment(KcpCommand.Ack, 3, una: 0), 1));
            Assert.Equal(KcpInputResult.InvalidUna, kcp.Input(Segment(KcpCommand.Ack, 0, una: 1000), 1));
            Assert.Equal(KcpInputResult.InvalidUna, kcp.Input(Segment(KcpCommand.WindowTell, 0, una: 4, wnd: 0), 1));
            Assert.Equal(3, kcp.WaitSnd);
            Assert.Equal(0u, kcp.SndUna);
            Assert.Equal(32, kcp.RemoteWindow);

            // A genuine ack in the same datagram as a forged one still counts.
            Assert.Equal(KcpInputResult.InvalidUna, kcp.Input([.. Segment(KcpCommand.Ack, 0, una: 1000), .. Segment(KcpCommand.Ack, 0, una: 1)], 1));
            Assert.Equal(2, kcp.WaitSnd);
            Assert.Null(kcp.CheckInvariants());
        }
    }

    [Fact]
    public void HugeRemoteWindow_IsCappedBySendWindow()
    {
        var output = new CapturingOutput();
        using var kcp = new KcpControlBlock(Conv, output);
        kcp.SetNoDelay(1, 10, 2, true);
        Assert.Equal(KcpInputResult.Ok, kcp.Input(Segment(KcpCommand.WindowTell, 0, wnd: ushort.MaxValue), 0));
        for (var i = 0; i < 100; i++)
        {
            kcp.Send([1]);
        }

        kcp.FlushAt(0);
        Assert.Equal((uint)kcp.SendWindow, kcp.Statistics.InFlight);
    }

    [Fact]
    public void RandomBytes_NeverThrowOrBreakInvariants()
    {
        Gen.Select(Gen.Byte.Array[0, 200], Gen.Int[0, 6]).Sample((bytes, prefix) =>
        {
            var (kcp, _) = SenderWithThreeInFlight();
            using (kcp)
            {
                // Give some inputs a valid conv and command so they reach the deeper checks.
                if (bytes.Length >= 24 && prefix > 0)
                {
                    BitConverter.TryWriteBytes(bytes, Conv);
                    bytes[4] = (byte)(80 + prefix);
                    bytes[20] = bytes[21] = bytes[22] = bytes[23] = 0;
                }

                kcp.Input(bytes, 5);
                kcp.FlushAt(5);
                return kcp.CheckInvariants() is null && kcp.WaitSnd <= 3;
            }
        }, iter: 3000);
    }
}
