using System.Diagnostics.Metrics;
using System.IO.Pipelines;
using KcpKestrel.Http.Tests.Infrastructure;
using KcpKestrel.Protocols.Snappy;

namespace KcpKestrel.Http.Tests.Snappy;

/// <summary>The snappy pipe wrapper: round trips between two wrapped ends, and what hostile bytes do to it.</summary>
public sealed class SnappyDuplexPipeTests
{
    [Fact]
    public async Task SnappyDuplexPipe_TwoEnds_RoundTripBothWays()
    {
        var (left, right) = Wire();
        await using var a = new SnappyDuplexPipe(left);
        await using var b = new SnappyDuplexPipe(right);
        var toB = Payloads.Bytes(300_000, 7);
        var toA = new byte[200_000];

        var readA = ReadToEndAsync(a.Input);
        var readB = ReadToEndAsync(b.Input);
        foreach (var (pipe, data) in new[] { (a, toB), (b, toA) })
        {
            for (var offset = 0; offset < data.Length; offset += 50_001)
            {
                await pipe.Output.WriteAsync(data.AsMemory(offset, Math.Min(50_001, data.Length - offset)));
            }

            await pipe.Output.CompleteAsync();
        }

        Assert.Equal(toB, await readB);
        Assert.Equal(toA, await readA);
    }

    [Fact]
    public async Task SnappyDuplexPipe_EachFlush_FramedAndSentAtOnce()
    {
        var (left, right) = Wire();
        await using var snappy = new SnappyDuplexPipe(left);
        await snappy.Output.WriteAsync(new byte[] { 1, 2, 3 });

        // Stream identifier (10) plus one uncompressed chunk (8 + 3), without any further write.
        var received = 0L;
        await TestWaits.WaitUntilAsync(() =>
        {
            if (right.Input.TryRead(out var result))
            {
                received = result.Buffer.Length;
                right.Input.AdvanceTo(result.Buffer.Start, result.Buffer.End);
            }

            return received == 21;
        }, "the flushed chunk");
    }

    [Fact]
    public async Task SnappyDuplexPipe_CorruptChunk_FailsInputClosesTransportAndCounts()
    {
        long corrupt = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "KcpKestrel.Protocols.Snappy" && instrument.Name == "kcpkestrel.snappy.corrupt_streams")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref corrupt, value));
        listener.Start();

        var (left, right) = Wire();
        var snappy = new SnappyDuplexPipe(left);
        byte[] unskippable = [0xff, 6, 0, 0, (byte)'s', (byte)'N', (byte)'a', (byte)'P', (byte)'p', (byte)'Y', 0x05, 0, 0, 0];
        await right.Output.WriteAsync(unskippable);

        var error = await Assert.ThrowsAsync<InvalidDataException>(async () => await ReadToEndAsync(snappy.Input));
        Assert.Contains("0x05", error.Message, StringComparison.Ordinal);

        // The sending side is closed too, so the peer sees the connection end.
        var peer = await right.Input.ReadAsync().AsTask().WaitAsync(TestWaits.Bound);
        Assert.True(peer.IsCompleted);
        await snappy.Completion.WaitAsync(TestWaits.Bound);
        Assert.True(Interlocked.Read(ref corrupt) >= 1);
        await snappy.DisposeAsync();
    }

    [Fact]
    public async Task SnappyDuplexPipe_CompressibleFloodUnread_DecodedBytesStayBounded()
    {
        // 16 MiB of zeros frame to well under 1 MiB; an application that does not read must not make
        // the wrapper expand all of it.
        var (left, right) = Wire();
        var options = new SnappyPipeOptions { MaxBufferedBytes = SnappyPipeOptions.MinBufferedBytes };
        await using var snappy = new SnappyDuplexPipe(left, options);
        var framed = new System.Buffers.ArrayBufferWriter<byte>();
        using (var encoder = new SnappyFrameEncoder())
        {
            encoder.Encode(new byte[16 * 1024 * 1024], framed);
        }

        // The transport applies back-pressure too, so the peer's write completes only as we drain.
        var sending = right.Output.WriteAsync(framed.WrittenMemory).AsTask();
        long buffered = 0;
        await TestWaits.WaitUntilAsync(() =>
        {
            if (snappy.Input.TryRead(out var result))
            {
                buffered = result.Buffer.Length;
                snappy.Input.AdvanceTo(result.Buffer.Start, result.Buffer.End);
            }

            return buffered >= options.MaxBufferedBytes;
        }, "the first decoded bytes");
        await Task.Delay(200);
        Assert.True(snappy.Input.TryRead(out var later));
        var held = later.Buffer.Length;
        Assert.InRange(held, options.MaxBufferedBytes, options.MaxBufferedBytes + SnappyFraming.MaxBlockSize);
        snappy.Input.AdvanceTo(later.Buffer.End);

        // Reading drains the rest.
        const long total = 16 * 1024 * 1024;
        Assert.Equal(total - held, await ReadAvailableAsync(snappy.Input, total - held));
        await sending.WaitAsync(TestWaits.Bound);
    }

    [Fact]
    public async Task SnappyDuplexPipe_PeerEndsInsideChunk_FailsInput()
    {
        var (left, right) = Wire();
        await using var snappy = new SnappyDuplexPipe(left);
        await right.Output.WriteAsync(new byte[] { 0xff, 6, 0, 0, (byte)'s' });
        await right.Output.CompleteAsync();
        await Assert.ThrowsAsync<InvalidDataException>(async () => await ReadToEndAsync(snappy.Input));
    }

    [Fact]
    public async Task SnappyDuplexPipe_Dispose_CompletesTransport()
    {
        var (left, right) = Wire();
        var snappy = new SnappyDuplexPipe(left);
        await snappy.DisposeAsync().AsTask().WaitAsync(TestWaits.Bound);
        var peer = await right.Input.ReadAsync().AsTask().WaitAsync(TestWaits.Bound);
        Assert.True(peer.IsCompleted);
    }

    [Fact]
    public void SnappyPipeOptions_BufferBelowOneChunk_Throws()
    {
        var options = new SnappyPipeOptions { MaxBufferedBytes = SnappyPipeOptions.MinBufferedBytes - 1 };
        Assert.Throws<ArgumentOutOfRangeException>(options.Validate);
    }

    private static async Task<long> ReadAvailableAsync(PipeReader reader, long expected)
    {
        long total = 0;
        while (total < expected)
        {
            var result = await reader.ReadAsync().AsTask().WaitAsync(TestWaits.Bound);
            total += result.Buffer.Length;
            reader.AdvanceTo(result.Buffer.End);
        }

        return total;
    }

    private static async Task<byte[]> ReadToEndAsync(PipeReader reader)
    {
        var stream = new MemoryStream();
        await reader.CopyToAsync(stream).WaitAsync(TestWaits.Bound);
        return stream.ToArray();
    }

    /// <summary>Two transport ends joined by a pair of pipes, standing in for a KCP connection.</summary>
    private static (IDuplexPipe Left, IDuplexPipe Right) Wire()
    {
        var leftToRight = new Pipe();
        var rightToLeft = new Pipe();
        return (new End(rightToLeft.Reader, leftToRight.Writer), new End(leftToRight.Reader, rightToLeft.Writer));
    }

    private sealed class End(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
