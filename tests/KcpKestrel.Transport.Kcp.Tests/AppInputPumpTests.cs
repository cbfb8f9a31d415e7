using System.Buffers;
using System.IO.Pipelines;
using KcpKestrel.Core.Arq;
using KcpKestrel.Transport.Kcp.Sessions;

namespace KcpKestrel.Transport.Kcp.Tests;

/// <summary>KCP → app pipe: what the pump takes out of KCP's receive queue, reading or not.</summary>
public sealed class AppInputPumpTests
{
    private const uint Conv = 0x01020304;

    private sealed class NoOutput : IKcpOutput
    {
        public void Output(Span<byte> buffer)
        {
        }
    }

    [Fact]
    public void AfterTheAppStopsReading_MessagesOfAnySizeAreDiscarded_SoTheWindowStaysOpen()
    {
        using var kcp = new KcpControlBlock(Conv, new NoOutput());
        var pipe = new Pipe();
        var pump = new AppInputPump(kcp, () => { });
        pump.Attach(pipe.Writer);
        pipe.Reader.Complete();

        // The first message finds the reader gone: from now on the pump discards.
        Assert.Equal(KcpInputResult.Ok, kcp.Input(Push(0, 0, "hi"u8), 0));
        pump.Drain();

        // A message far larger than any stack buffer, in fragments, then a small one and an empty one.
        var sn = 1u;
        var fragment = new byte[1000];
        for (var frg = 9; frg >= 0; frg--)
        {
            Assert.Equal(KcpInputResult.Ok, kcp.Input(Push(sn++, (byte)frg, fragment), 0));
        }

        Assert.Equal(KcpInputResult.Ok, kcp.Input(Push(sn++, 0, "small"u8), 0));
        Assert.Equal(KcpInputResult.Ok, kcp.Input(Push(sn, 0, []), 0));
        Assert.Equal(10_000, kcp.PeekSize());
        pump.Drain();

        Assert.Equal(0, kcp.ReceiveQueueCount);
        Assert.Equal(-1, kcp.PeekSize());
    }

    [Fact]
    public void AppCompletedInputWithError_DrainDiscardsInsteadOfThrowing()
    {
        // A layer such as snappy ends the transport's input with its decode error: the pipe then throws that
        // error from the writer's flush, which must not escape into the I/O loop.
        using var kcp = new KcpControlBlock(Conv, new NoOutput());
        var pipe = new Pipe();
        var pump = new AppInputPump(kcp, () => { });
        pump.Attach(pipe.Writer);
        pipe.Reader.Complete(new InvalidDataException("corrupt"));

        Assert.Equal(KcpInputResult.Ok, kcp.Input(Push(0, 0, "hi"u8), 0));
        pump.Drain();
        Assert.Equal(KcpInputResult.Ok, kcp.Input(Push(1, 0, "more"u8), 0));
        pump.Drain();

        Assert.Equal(0, kcp.ReceiveQueueCount);
    }

    [Fact]
    public void AppCompletedInputWithErrorWhilePaused_ResumeDiscardsInsteadOfThrowing()
    {
        using var kcp = new KcpControlBlock(Conv, new NoOutput());
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 4, resumeWriterThreshold: 2, readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.Inline, useSynchronizationContext: false));
        var resumed = 0;
        var pump = new AppInputPump(kcp, () => resumed++);
        pump.Attach(pipe.Writer);
        Assert.Equal(KcpInputResult.Ok, kcp.Input(Push(0, 0, "paused"u8), 0));
        pump.Drain();

        pipe.Reader.Complete(new InvalidDataException("corrupt"));
        Assert.Equal(1, resumed);
        pump.OnResumed();
        Assert.Equal(KcpInputResult.Ok, kcp.Input(Push(1, 0, "more"u8), 0));
        pump.Drain();

        Assert.Equal(0, kcp.ReceiveQueueCount);
    }

    private static byte[] Push(uint sn, byte frg, ReadOnlySpan<byte> payload)
    {
        var bytes = new byte[SegmentHeader.Size + payload.Length];
        new SegmentHeader(Conv, KcpCommand.Push, frg, 32, 0, sn, 0, (uint)payload.Length).Write(bytes);
        payload.CopyTo(bytes.AsSpan(SegmentHeader.Size));
        return bytes;
    }

    [Fact]
    public void ZeroLengthMessage_IsConsumed_AndWhatFollowsReachesTheApp()
    {
        using var kcp = new KcpControlBlock(Conv, new NoOutput());
        var pipe = new Pipe();
        var pump = new AppInputPump(kcp, () => { });
        pump.Attach(pipe.Writer);

        Assert.Equal(KcpInputResult.Ok, kcp.Input(Push(0, 0, []), 0));
        Assert.Equal(KcpInputResult.Ok, kcp.Input(Push(1, 0, "abc"u8), 0));
        pump.Drain();

        Assert.Equal(0, kcp.ReceiveQueueCount);
        Assert.True(pipe.Reader.TryRead(out var result));
        Assert.Equal("abc"u8.ToArray(), result.Buffer.ToArray());
        pipe.Reader.AdvanceTo(result.Buffer.End);
    }
}
