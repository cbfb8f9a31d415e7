using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;

namespace KcpKestrel.Smux.Tests.Session;

/// <summary>
/// The bad-input list, one case per test, each through a real session: what it closes (the session or one
/// stream), the reason it gives and the counter it moves. The session under test is the server (it accepts odd ids).
/// </summary>
public sealed class SmuxSessionBadInputTests
{
    [Theory]
    [InlineData(1, "0109000003000000", "UnknownCommand")]
    [InlineData(1, "0104080003000000", "UnknownCommand")]
    [InlineData(1, "0200000003000000", "WrongVersion")]
    [InlineData(2, "0100000003000000", "WrongVersion")]
    [InlineData(1, "0100050003000000", "UnexpectedPayload")]
    [InlineData(2, "0204040003000000", "BadUpdateLength")]
    public async Task Session_MalformedHeader_ClosesSessionWithReasonAndCounter(int version, string frame, string reason)
    {
        await using var peer = new Peer(version);

        await peer.SendAsync(frame);

        await peer.Session.Completion.WaitAsync(TestWaits.Bound);
        Assert.Contains(reason, peer.Session.CloseReason, StringComparison.Ordinal);
        Assert.Equal(1, peer.Session.Counters.ProtocolErrors);
    }

    [Fact]
    public async Task Session_SynReusingLiveId_ResetsThatStreamOnly()
    {
        await using var peer = new Peer(2);
        await peer.SendAsync(Frame(2, 0, 3, []));
        var stream = await peer.AcceptAsync();

        await peer.SendAsync(Frame(2, 0, 3, []));

        var error = await Assert.ThrowsAsync<IOException>(() => TestWaits.ReadToEndAsync(stream.Input));
        Assert.Contains("still live", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, peer.Session.Counters.StreamsReset);
        Assert.Equal(Convert.ToHexStringLower(Frame(2, 1, 3, [])), await peer.ReceiveHexAsync(8));
        Assert.Null(peer.Session.CloseReason);
    }

    [Fact]
    public async Task Session_SynWithOwnParity_RefusedWithFin()
    {
        await using var peer = new Peer(1);

        await peer.SendAsync(Frame(1, 0, 4, []));

        Assert.Equal(Convert.ToHexStringLower(Frame(1, 1, 4, [])), await peer.ReceiveHexAsync(8));
        Assert.Equal(1, peer.Session.Counters.StreamsRefused);
        Assert.Equal(0, peer.Session.StreamCount);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(1)]
    [InlineData(4)]
    public async Task Session_FrameForUnknownStream_DroppedAndCounted(byte command)
    {
        await using var peer = new Peer(2);
        var body = command == 4 ? new byte[8] : command == 2 ? "lost"u8.ToArray() : [];

        await peer.SendAsync(Frame(2, command, 9, body), Frame(2, 3, 0, []));

        await TestWaits.WaitUntilAsync(() => peer.Session.Counters.FramesIgnored == 1, "the drop to be counted");
        Assert.Null(peer.Session.CloseReason);
        Assert.Equal(0, peer.Session.BufferedBytes);
    }

    [Fact]
    public async Task Session_V2DataPastGrantedWindow_ResetsStream()
    {
        await using var peer = new Peer(2);
        await peer.SendAsync(Frame(2, 0, 3, []));
        var stream = await peer.AcceptAsync();
        var frame = Frame(2, 2, 3, new byte[65535]);

        // smux peers may send 256 KiB (their initial guess of our window) before our first UPD; the fifth frame is past it.
        await peer.SendAsync(frame, frame, frame, frame, frame);

        var error = await Assert.ThrowsAsync<IOException>(() => TestWaits.ReadToEndAsync(stream.Input));
        Assert.Contains("overflowed", error.Message, StringComparison.Ordinal);
        Assert.Equal((1, 1), (peer.Session.Counters.WindowOverflows, peer.Session.Counters.StreamsReset));
        await TestWaits.WaitUntilAsync(() => peer.Session.BufferedBytes == 0, "the reset stream's bytes to be released");
        Assert.Null(peer.Session.CloseReason);
    }

    [Fact]
    public async Task Session_SynPastMaxStreams_RefusedWithFin()
    {
        await using var peer = new Peer(1, o => o.MaxStreams = 1);
        await peer.SendAsync(Frame(1, 0, 3, []));
        await peer.AcceptAsync();

        await peer.SendAsync(Frame(1, 0, 5, []));

        Assert.Equal(Convert.ToHexStringLower(Frame(1, 1, 5, [])), await peer.ReceiveHexAsync(8));
        Assert.Equal((1, 1), (peer.Session.Counters.StreamsAccepted, peer.Session.Counters.StreamsRefused));
    }

    [Fact]
    public async Task Session_SynFloodPeerNotReading_ClosesSessionWithBoundedQueue()
    {
        // Our answers go to a pipe nobody reads, which pushes back after 64 bytes (8 FINs).
        await using var peer = new Peer(1, o => o.AcceptBacklog = 4, pauseAnswersAt: 64);
        var flood = Enumerable.Range(0, 200).Select(i => Frame(1, 0, (uint)(2 * i + 1), [])).ToArray();

        await peer.SendAsync(flood);

        await peer.Session.Completion.WaitAsync(TestWaits.Bound);
        Assert.Contains("stream flood", peer.Session.CloseReason, StringComparison.Ordinal);
        Assert.Equal(1, peer.Session.Counters.ProtocolErrors);
        Assert.InRange(peer.Session.Counters.StreamsRefused, 4, 196);
    }

    [Fact]
    public async Task Session_V2UpdateOverclaimingConsumption_ResetsStreamAndEndsWriter()
    {
        await using var peer = new Peer(2);
        await peer.SendAsync(Frame(2, 0, 3, []));
        var stream = await peer.AcceptAsync();
        await stream.Output.WriteAsync("abc"u8.ToArray());
        await peer.ReceiveHexAsync(8 + 3);

        var update = new byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(update, 1000);
        BinaryPrimitives.WriteUInt32LittleEndian(update.AsSpan(4), 65536);
        await peer.SendAsync(Frame(2, 4, 3, update));

        var error = await Assert.ThrowsAsync<IOException>(() => TestWaits.ReadToEndAsync(stream.Input));
        Assert.Contains("consumed more than was sent", error.Message, StringComparison.Ordinal);
        Assert.Equal((1, 1), (peer.Session.Counters.ConsumedOverclaims, peer.Session.Counters.StreamsReset));
        Assert.Equal(Convert.ToHexStringLower(Frame(2, 1, 3, [])), await peer.ReceiveHexAsync(8));
        var deadline = Environment.TickCount64 + (long)TestWaits.Bound.TotalMilliseconds;
        while (!(await stream.Output.WriteAsync(new byte[1])).IsCompleted)
        {
            Assert.True(Environment.TickCount64 < deadline, "The writer never saw the reset.");
            await Task.Delay(10);
        }
    }

    [Theory]
    [InlineData("01000000")]
    [InlineData("01020a0003000000616263")]
    public async Task Session_TransportEndsInsideFrame_ClosesWithTruncationReason(string tail)
    {
        await using var peer = new Peer(1);
        await peer.SendAsync(Frame(1, 0, 3, []));
        await peer.AcceptAsync();

        await peer.SendAsync(tail);
        await peer.ToSession.Writer.CompleteAsync();

        await peer.Session.Completion.WaitAsync(TestWaits.Bound);
        Assert.Contains("inside a frame", peer.Session.CloseReason, StringComparison.Ordinal);
        Assert.Equal(1, peer.Session.Counters.ProtocolErrors);
    }

    [Fact]
    public async Task Session_TransportEndsBetweenFrames_ClosesWithoutProtocolError()
    {
        await using var peer = new Peer(1);
        await peer.SendAsync(Frame(1, 3, 0, []));

        await peer.ToSession.Writer.CompleteAsync();

        await peer.Session.Completion.WaitAsync(TestWaits.Bound);
        Assert.Equal("transport closed", peer.Session.CloseReason);
        Assert.Equal(0, peer.Session.Counters.ProtocolErrors);
    }

    [Fact]
    public async Task Session_ReceiveLimit_CheckedPerFrame()
    {
        await using var peer = new Peer(1, o => { o.MaxReceiveBuffer = 1000; o.MaxStreamBuffer = 1000; });
        var frame = Frame(1, 2, 3, new byte[400]);

        // Ten frames in one transport read: reading stops at the first frame that fills the buffer, not at the read's end.
        await peer.SendAsync([Frame(1, 0, 3, []), .. Enumerable.Repeat(frame, 10)]);
        var stream = await peer.AcceptAsync();
        await TestWaits.WaitUntilAsync(() => peer.Session.BufferedBytes >= 1000, "the buffer to fill");
        await Task.Delay(50);

        Assert.Equal(1200, peer.Session.BufferedBytes);
        var all = await SmuxTestStreams.ReadExactlyAsync(stream.Input, 4000);
        Assert.Equal(4000, all.Length);
    }

    internal static byte[] Frame(byte version, byte command, uint id, ReadOnlySpan<byte> body)
    {
        var frame = new byte[8 + body.Length];
        frame[0] = version;
        frame[1] = command;
        BinaryPrimitives.WriteUInt16LittleEndian(frame.AsSpan(2), (ushort)body.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(4), id);
        body.CopyTo(frame.AsSpan(8));
        return frame;
    }

    /// <summary>A hand-driven smux peer: raw frames in, the session's raw answers out.</summary>
    private sealed class Peer : IAsyncDisposable
    {
        private readonly Pipe _fromSession;

        public Peer(int version, Action<SmuxOptions>? configure = null, long pauseAnswersAt = 65536)
        {
            var options = new SmuxOptions { Version = version, KeepAliveDisabled = true };
            configure?.Invoke(options);
            _fromSession = new Pipe(new PipeOptions(pauseWriterThreshold: pauseAnswersAt, resumeWriterThreshold: pauseAnswersAt / 2));
            Session = new SmuxSession(DuplexPipes.Create(ToSession.Reader, _fromSession.Writer), isClient: false, options);
        }

        public Pipe ToSession { get; } = new();

        public SmuxSession Session { get; }

        public async Task SendAsync(params byte[][] frames)
        {
            foreach (var frame in frames)
            {
                ToSession.Writer.Write(frame);
            }

            await ToSession.Writer.FlushAsync();
        }

        public Task SendAsync(string hex) => SendAsync(Convert.FromHexString(hex));

        public Task<SmuxStream> AcceptAsync() => Session.AcceptStreamAsync().AsTask().WaitAsync(TestWaits.Bound);

        public async Task<string> ReceiveHexAsync(int count) => Convert.ToHexStringLower(await SmuxTestStreams.ReadExactlyAsync(_fromSession.Reader, count));

        public ValueTask DisposeAsync() => Session.DisposeAsync();
    }
}
