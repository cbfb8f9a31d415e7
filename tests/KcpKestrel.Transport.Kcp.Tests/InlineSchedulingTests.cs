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
        Assert.All(serverThreads, name => Assert.Equal(inline, name?.StartsWith("kcp-loop-", StringComparison.Ordinal) == true));
        Assert.All(clientThreads, name => Assert.Equal(inline, name?.StartsWith("kcp-client-", StringComparison.Ordinal) == true));
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

        var threads = await PingPongAsync(connection, count: 1);
        Assert.StartsWith("kcp-client-", threads[0], StringComparison.Ordinal);

        // Still on the client loop here (the read resumed inline): the factory must not free that loop under itself.
        Assert.StartsWith("kcp-client-", Thread.CurrentThread.Name, StringComparison.Ordinal);
        await factory.DisposeAsync().AsTask().WaitAsync(Timeout);
        await connection.DisposeAsync();
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
