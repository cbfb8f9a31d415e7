using KcpKestrel.Smux;
using KcpKestrel.Transport.Kcp.Multiplexing;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace KcpKestrel.Transport.Kcp.Tests.Multiplexing;

/// <summary>One smux stream as a connection, over an in-memory pair of smux sessions (no KCP underneath).</summary>
public sealed class SmuxStreamConnectionTests
{
    [Fact]
    public async Task Abort_PendingRead_FailsOnlyThatStream()
    {
        await using var pair = new SessionPair();
        var (theirs, ours) = await pair.OpenAsync();
        var (otherTheirs, otherOurs) = await pair.OpenAsync();
        var read = ours.Transport.Input.ReadAsync().AsTask();

        ours.Abort(new ConnectionAbortedException("test abort"));

        var error = await Assert.ThrowsAsync<ConnectionAbortedException>(() => read.WaitAsync(TestWaits.Bound));
        Assert.Equal("test abort", error.Message);
        await TestWaits.WaitAsync(ours.ConnectionClosed, "the aborted stream's ConnectionClosed");
        Assert.True((await ours.Transport.Output.FlushAsync()).IsCompleted);
        await ours.DisposeAsync();
        Assert.Empty(await TestWaits.ReadToEndAsync(theirs.Input).WaitAsync(TestWaits.Bound));

        var (sent, received) = await SmuxListenerTests.EchoThroughAsync(otherTheirs, otherOurs, 10_000);
        Assert.Equal(sent, received);
        Assert.False(otherOurs.ConnectionClosed.IsCancellationRequested);
        Assert.Null(pair.Server.CloseReason);
    }

    [Fact]
    public async Task SessionConnectionClosed_EveryStreamSignalled()
    {
        await using var pair = new SessionPair();
        var (_, first) = await pair.OpenAsync();
        var (_, second) = await pair.OpenAsync();

        pair.CloseSessionConnection();

        await TestWaits.WaitAsync(first.ConnectionClosed, "the first stream's ConnectionClosed");
        await TestWaits.WaitAsync(second.ConnectionClosed, "the second stream's ConnectionClosed");
    }

    [Fact]
    public async Task Features_StreamIdAndSessionsOwnFeatures()
    {
        await using var pair = new SessionPair();
        var (theirs, ours) = await pair.OpenAsync();

        Assert.Equal(theirs.Id, ours.Features.Get<IKcpStreamFeature>()!.StreamId);
        Assert.Equal(1, ours.Features.Get<IKcpStreamFeature>()!.SessionStreamCount);
        Assert.Same(pair.SessionConnection.Features.Get<IMemoryPoolFeature>()?.MemoryPool ?? System.Buffers.MemoryPool<byte>.Shared, ours.Features.Get<IMemoryPoolFeature>()!.MemoryPool);
        Assert.StartsWith(pair.SessionConnection.ConnectionId + "/", ours.ConnectionId, StringComparison.Ordinal);
        Assert.Same(ours, ours.Features.Get<IConnectionLifetimeFeature>());
    }

    /// <summary>A client and a server smux session over an in-memory pipe; the server's streams become connections.</summary>
    private sealed class SessionPair : IAsyncDisposable
    {
        private readonly CancellationTokenSource _sessionClosed = new();

        public SessionPair()
        {
            var (a, b) = DuplexPipes.CreatePair();
            Client = new SmuxSession(a, isClient: true);
            Server = new SmuxSession(b, isClient: false);
            SessionConnection = new DefaultConnectionContext("session-1") { ConnectionClosed = _sessionClosed.Token };
        }

        public SmuxSession Client { get; }

        public SmuxSession Server { get; }

        public DefaultConnectionContext SessionConnection { get; }

        public async Task<(SmuxStream Theirs, SmuxStreamConnection Ours)> OpenAsync()
        {
            var theirs = await Client.OpenStreamAsync();
            var accepted = await Server.AcceptStreamAsync().AsTask().WaitAsync(TestWaits.Bound);
            return (theirs, new SmuxStreamConnection(accepted, Server, SessionConnection));
        }

        public void CloseSessionConnection() => _sessionClosed.Cancel();

        public async ValueTask DisposeAsync()
        {
            await Client.DisposeAsync();
            await Server.DisposeAsync();
            _sessionClosed.Dispose();
        }
    }
}
