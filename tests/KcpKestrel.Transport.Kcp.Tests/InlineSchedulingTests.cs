using System.Buffers;
using KcpKestrel.Transport.Kcp.Tests.Infrastructure;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection;

namespace KcpKestrel.Transport.Kcp.Tests;

/// <summary><see cref="KcpOptions.UnsafePreferInlineScheduling"/>: app continuations on the loop thread, on both ends.</summary>
public sealed class InlineSchedulingTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Echo_InlineBothEnds_RoundTripsBytesIntact()
    {
        await using var host = await KcpTestHost.StartAsync<EchoConnectionHandler>(k => k.UnsafePreferInlineScheduling = true);
        await using var factory = KcpTestHost.Client(k => k.UnsafePreferInlineScheduling = true).CreateFactory();

        var connection = await factory.ConnectAsync(host.KcpEndPoint);
        var (sent, received) = await StreamCheck.EchoAsync(connection, 4 << 20, seed: 3, Timeout);

        Assert.Equal(sent, received);
        await connection.DisposeAsync();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task PingPong_InlineOrNot_AppReadsResumeOnTheLoopOnlyWhenInline(bool inline)
    {
        await using var host = await KcpTestHost.StartAsync<ThreadRecordingEchoHandler>(k => k.UnsafePreferInlineScheduling = inline);
        await using var factory = KcpTestHost.Client(k => k.UnsafePreferInlineScheduling = inline).CreateFactory();
        var connection = await factory.ConnectAsync(host.KcpEndPoint);

        var clientThreads = await PingPongAsync(connection, count: 20);

        var serverThreads = host.Services.GetRequiredService<ThreadRecordingEchoHandler>().ReadThreads;
        Assert.NotEmpty(serverThreads);
        // A read whose data was already buffered completes on the reader's own thread with no continuation at all, and on a
        // loaded machine that can happen to any read; only reads that waited resume somewhere. Inline, those resume on the
        // loop, so most reads of a ping-pong do; otherwise none ever does.
        AssertResumedOnLoop(serverThreads, "kcp-loop-", inline);
        AssertResumedOnLoop(clientThreads, "kcp-client-", inline);
        await connection.DisposeAsync();
    }

    [Fact]
    public async Task PingPong_InlineAppAwaitsATimerBeforeEachReply_StillRoundTrips()
    {
        await using var host = await KcpTestHost.StartAsync<ThreadRecordingEchoHandler>(k => k.UnsafePreferInlineScheduling = true);
        host.Services.GetRequiredService<ThreadRecordingEchoHandler>().AwaitBeforeReply = true;
        await using var factory = KcpTestHost.Client(k => k.UnsafePreferInlineScheduling = true).CreateFactory();
        var connection = await factory.ConnectAsync(host.KcpEndPoint);

        var clientThreads = await PingPongAsync(connection, count: 20);

        Assert.Equal(20, clientThreads.Count);
        await connection.DisposeAsync();
    }

    [Fact]
    public async Task DisposeFactory_FromAnInlineReadOnItsLoop_StopsTheLoopsFromThePool()
    {
        await using var host = await KcpTestHost.StartAsync<EchoConnectionHandler>();
        var factory = KcpTestHost.Client(k => k.UnsafePreferInlineScheduling = true).CreateFactory();
        var connection = await factory.ConnectAsync(host.KcpEndPoint);

        // Ping until a read resumes on the client loop (one whose echo was already buffered completes on this thread).
        for (var i = 0; i < 200 && Thread.CurrentThread.Name?.StartsWith("kcp-client-", StringComparison.Ordinal) != true; i++)
        {
            await PingPongAsync(connection, count: 1);
        }

        // Still on the client loop here (the read resumed inline): the factory must not free that loop under itself.
        Assert.StartsWith("kcp-client-", Thread.CurrentThread.Name, StringComparison.Ordinal);
        await factory.DisposeAsync().AsTask().WaitAsync(Timeout);
        await connection.DisposeAsync();
    }

    private static void AssertResumedOnLoop(IReadOnlyCollection<string?> threads, string loopPrefix, bool inline)
    {
        var onLoop = 0;
        foreach (var name in threads)
        {
            onLoop += name?.StartsWith(loopPrefix, StringComparison.Ordinal) == true ? 1 : 0;
        }

        if (inline)
        {
            Assert.True(onLoop * 2 >= threads.Count, $"{onLoop} of {threads.Count} reads resumed on the loop");
        }
        else
        {
            Assert.Equal(0, onLoop);
        }
    }

    /// <summary>Sends <paramref name="count"/> numbered messages one at a time, checks each echo; the names of the threads its reads resumed on.</summary>
    private static async Task<List<string?>> PingPongAsync(ConnectionContext connection, int count)
    {
        using var cts = new CancellationTokenSource(Timeout);
        var threads = new List<string?>();
        var input = connection.Transport.Input;
        for (var i = 0; i < count; i++)
        {
            var message = BitConverter.GetBytes(i);
            await connection.Transport.Output.WriteAsync(message, cts.Token).ConfigureAwait(false);
            var result = await input.ReadAtLeastAsync(message.Length, cts.Token).ConfigureAwait(false);
            threads.Add(Thread.CurrentThread.Name);
            Assert.Equal(message, result.Buffer.Slice(0, message.Length).ToArray());
            input.AdvanceTo(result.Buffer.GetPosition(message.Length));
        }

        return threads;
    }
}
