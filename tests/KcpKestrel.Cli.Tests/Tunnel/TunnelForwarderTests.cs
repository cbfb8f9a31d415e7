using System.Buffers;
using System.IO.Pipelines;
using System.Security.Cryptography;
using KcpKestrel.Cli.Tunnel;

namespace KcpKestrel.Cli.Tests.Tunnel;

public sealed class TunnelForwarderTests
{
    [Fact]
    public async Task RunAsync_BytesBothWays_ArriveAndAreCounted()
    {
        var (client, inbound) = DuplexPipes.CreatePair();
        var (outbound, target) = DuplexPipes.CreatePair();
        var run = TunnelForwarder.RunAsync(inbound, outbound);

        await client.Output.WriteAsync("request"u8.ToArray());
        Assert.Equal("request"u8.ToArray(), await ReadExactlyAsync(target.Input, 7));
        await target.Output.WriteAsync("a longer response"u8.ToArray());
        Assert.Equal("a longer response"u8.ToArray(), await ReadExactlyAsync(client.Input, 17));

        await client.Output.CompleteAsync();
        var bytes = await run.WaitAsync(TestWaits.Bound);
        Assert.Equal(new TunnelBytes(7, 17), bytes);
    }

    [Fact]
    public async Task RunAsync_DataWaitingInManySegments_IsFlushedAtOnce()
    {
        // 60 KiB already buffered spans fifteen 4 KiB segments (under the pipe's 64 KiB pause); the copy must flush it all at once.
        var (client, inbound) = DuplexPipes.CreatePair();
        var (outbound, target) = DuplexPipes.CreatePair();
        var payload = RandomNumberGenerator.GetBytes(60 * 1024);
        for (var offset = 0; offset < payload.Length; offset += 4096)
        {
            client.Output.Write(payload.AsSpan(offset, 4096));
        }

        await client.Output.FlushAsync();
        var run = TunnelForwarder.RunAsync(inbound, outbound);

        Assert.Equal(payload, await ReadExactlyAsync(target.Input, payload.Length).WaitAsync(TestWaits.Bound));
        await client.Output.CompleteAsync();
        await run.WaitAsync(TestWaits.Bound);
    }

    [Fact]
    public async Task RunAsync_OneSideFinishesSending_ClosesBothAfterFlushing()
    {
        // kcptun has no half-close: the end of one direction closes the tunnel, after what was read is written.
        var (client, inbound) = DuplexPipes.CreatePair();
        var (outbound, target) = DuplexPipes.CreatePair();
        var run = TunnelForwarder.RunAsync(inbound, outbound);

        await target.Output.WriteAsync("last words"u8.ToArray());
        await target.Output.CompleteAsync();

        Assert.Equal("last words"u8.ToArray(), await TestWaits.ReadToEndAsync(client.Input).WaitAsync(TestWaits.Bound));
        Assert.Empty(await TestWaits.ReadToEndAsync(target.Input).WaitAsync(TestWaits.Bound));
        Assert.Equal(new TunnelBytes(0, 10), await run.WaitAsync(TestWaits.Bound));
    }

    [Fact]
    public async Task RunAsync_SourceFails_EndsTheTunnelWithoutThrowing()
    {
        var (client, inbound) = DuplexPipes.CreatePair();
        var (outbound, target) = DuplexPipes.CreatePair();
        var run = TunnelForwarder.RunAsync(inbound, outbound);

        await client.Output.CompleteAsync(new IOException("connection reset"));

        await run.WaitAsync(TestWaits.Bound);
        Assert.Empty(await TestWaits.ReadToEndAsync(target.Input).WaitAsync(TestWaits.Bound));
        Assert.Empty(await TestWaits.ReadToEndAsync(client.Input).WaitAsync(TestWaits.Bound));
    }

    [Fact]
    public async Task RunAsync_SlowReaderBehindSmallPipes_BuffersBoundedAndLosesNothing()
    {
        // Pipes that pause their writer past 64 KiB: the forwarder must wait on the destination, not buffer ahead.
        var options = new PipeOptions(pauseWriterThreshold: 64 * 1024, resumeWriterThreshold: 32 * 1024, useSynchronizationContext: false);
        var toInbound = new Pipe(options);
        var fromInbound = new Pipe(options);
        var toOutbound = new Pipe(options);
        var fromOutbound = new Pipe(options);
        var inbound = DuplexPipes.Create(toInbound.Reader, fromInbound.Writer);
        var outbound = DuplexPipes.Create(fromOutbound.Reader, toOutbound.Writer);
        var run = TunnelForwarder.RunAsync(inbound, outbound);

        var payload = RandomNumberGenerator.GetBytes(8 * 1024 * 1024);
        var send = Task.Run(async () =>
        {
            for (var offset = 0; offset < payload.Length; offset += 16 * 1024)
            {
                await toInbound.Writer.WriteAsync(payload.AsMemory(offset, 16 * 1024));
            }
        });

        // Nothing reads the far end yet: the sender must stall with only a few pipes' worth in flight.
        await Task.Delay(200);
        Assert.False(send.IsCompleted);

        var received = await ReadExactlyAsync(toOutbound.Reader, payload.Length).WaitAsync(TestWaits.Bound);
        await send.WaitAsync(TestWaits.Bound);
        Assert.Equal(SHA256.HashData(payload), SHA256.HashData(received));

        await toInbound.Writer.CompleteAsync();
        Assert.Equal(payload.Length, (await run.WaitAsync(TestWaits.Bound)).Up);
    }

    private static async Task<byte[]> ReadExactlyAsync(PipeReader reader, int count)
    {
        var buffer = new byte[count];
        var filled = 0;
        while (filled < count)
        {
            var result = await reader.ReadAsync();
            var take = (int)Math.Min(result.Buffer.Length, count - filled);
            var slice = result.Buffer.Slice(0, take);
            slice.CopyTo(buffer.AsSpan(filled));
            filled += take;
            reader.AdvanceTo(slice.End);
            if (result.IsCompleted && filled < count)
            {
                throw new EndOfStreamException($"ended after {filled} of {count} bytes");
            }
        }

        return buffer;
    }
}
