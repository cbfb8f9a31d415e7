using System.Buffers;
using System.IO.Pipelines;
using KcpKestrel.Http.Tests.Infrastructure;
using KcpKestrel.Protocols.Qpp;

namespace KcpKestrel.Http.Tests.Qpp;

/// <summary>The QPP pipe wrapper: two wrapped ends talk, the wire never carries the plain text, and ends complete cleanly.</summary>
public sealed class QppDuplexPipeTests
{
    private static readonly QppPad s_pad = new("it's a secrect"u8);

    [Fact]
    public async Task QppDuplexPipe_TwoEnds_RoundTripBothWays()
    {
        var (left, right) = DuplexPipes.CreatePair();
        await using var a = new QppDuplexPipe(left, s_pad);
        await using var b = new QppDuplexPipe(right, s_pad);
        var toB = Payloads.Bytes(300_000, 7);
        var toA = Payloads.Bytes(200_000, 8);

        var readA = ReadToEndAsync(a.Input);
        var readB = ReadToEndAsync(b.Input);
        foreach (var (pipe, data, step) in new[] { (a, toB, 50_001), (b, toA, 13) })
        {
            for (var offset = 0; offset < data.Length; offset += step)
            {
                await pipe.Output.WriteAsync(data.AsMemory(offset, Math.Min(step, data.Length - offset)));
            }

            await pipe.Output.CompleteAsync();
        }

        Assert.Equal(toB, await readB);
        Assert.Equal(toA, await readA);
    }

    [Fact]
    public async Task QppDuplexPipe_EachFlush_SentEncryptedAtOnce()
    {
        var (left, right) = DuplexPipes.CreatePair();
        await using var qpp = new QppDuplexPipe(left, s_pad);
        var plain = new byte[64];
        await qpp.Output.WriteAsync(plain);

        // The same number of bytes arrives without a further write, and not as zeros.
        var received = Array.Empty<byte>();
        await TestWaits.WaitUntilAsync(() =>
        {
            if (right.Input.TryRead(out var result))
            {
                received = result.Buffer.ToArray();
                right.Input.AdvanceTo(result.Buffer.Start, result.Buffer.End);
            }

            return received.Length == plain.Length;
        }, "the flushed bytes");
        Assert.NotEqual(plain, received);
    }

    [Fact]
    public async Task QppDuplexPipe_Dispose_CompletesTransport()
    {
        var (left, right) = DuplexPipes.CreatePair();
        var qpp = new QppDuplexPipe(left, s_pad);
        await qpp.DisposeAsync().AsTask().WaitAsync(TestWaits.Bound);
        var peer = await right.Input.ReadAsync().AsTask().WaitAsync(TestWaits.Bound);
        Assert.True(peer.IsCompleted);
    }

    [Fact]
    public async Task QppDuplexPipe_TransportFails_InputFailsToo()
    {
        var (left, right) = DuplexPipes.CreatePair();
        await using var qpp = new QppDuplexPipe(left, s_pad);
        await right.Output.CompleteAsync(new IOException("reset"));
        await Assert.ThrowsAsync<IOException>(async () => await ReadToEndAsync(qpp.Input));
    }

    [Fact]
    public void QppDuplexPipe_NullArguments_Throw()
    {
        var (left, _) = DuplexPipes.CreatePair();
        Assert.Throws<ArgumentNullException>(() => new QppDuplexPipe(null!, s_pad));
        Assert.Throws<ArgumentNullException>(() => new QppDuplexPipe(left, null!));
    }

    private static async Task<byte[]> ReadToEndAsync(PipeReader reader)
    {
        var stream = new MemoryStream();
        await reader.CopyToAsync(stream).WaitAsync(TestWaits.Bound);
        return stream.ToArray();
    }
}
