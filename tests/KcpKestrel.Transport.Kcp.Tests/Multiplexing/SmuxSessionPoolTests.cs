using KcpKestrel.Transport.Kcp.Multiplexing;
using Microsoft.Extensions.Time.Testing;

namespace KcpKestrel.Transport.Kcp.Tests.Multiplexing;

/// <summary>The pool's policy (kcptun client/main.go: round robin, lazy dial, autoexpire, scavenger) on a fake clock.</summary>
public sealed class SmuxSessionPoolTests
{
    private static readonly TimeSpan Expire = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(600);

    private readonly FakeTimeProvider _time = new();

    [Fact]
    public async Task OpenStream_TwoSlots_DialsLazilyAndAlternates()
    {
        await using var dialer = new InMemorySmuxDialer();
        await using var pool = CreatePool(dialer, 2, TimeSpan.Zero);
        Assert.Equal(0, dialer.Dials);

        var opened = new List<SmuxPoolSession>();
        for (var i = 0; i < 6; i++)
        {
            var (session, stream) = await pool.OpenStreamAsync(CancellationToken.None);
            await InMemorySmuxDialer.AssertEchoAsync(stream, $"stream {i}");
            opened.Add(session);
        }

        Assert.Equal(2, dialer.Dials);
        Assert.Equal(2, pool.SessionsDialed);
        Assert.NotSame(opened[0], opened[1]);
        for (var i = 2; i < opened.Count; i++)
        {
            Assert.Same(opened[i % 2], opened[i]);
        }
    }

    [Fact]
    public async Task OpenStream_ConcurrentOnEmptySlot_DialsOnce()
    {
        await using var dialer = new InMemorySmuxDialer();
        await using var pool = CreatePool(dialer, 1, TimeSpan.Zero);
        dialer.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var opens = Enumerable.Range(0, 20).Select(_ => pool.OpenStreamAsync(CancellationToken.None).AsTask()).ToArray();
        dialer.Gate.SetResult();

        var results = await Task.WhenAll(opens).WaitAsync(TestWaits.Bound);

        Assert.Equal(1, dialer.Dials);
        Assert.All(results, r => Assert.Same(results[0].Session, r.Session));
        Assert.Equal(20, results.Select(r => r.Stream.Id).Distinct().Count());
    }

    [Fact]
    public async Task OpenStream_NoAutoExpire_KeepsSessionForever()
    {
        await using var dialer = new InMemorySmuxDialer();
        await using var pool = CreatePool(dialer, 1, TimeSpan.Zero);
        var (first, _) = await pool.OpenStreamAsync(CancellationToken.None);

        _time.Advance(TimeSpan.FromDays(30));
        var (later, stream) = await pool.OpenStreamAsync(CancellationToken.None);

        Assert.Same(first, later);
        Assert.False(first.IsClosed);
        await InMemorySmuxDialer.AssertEchoAsync(stream, "still here");
    }

    [Fact]
    public async Task OpenStream_PastAutoExpire_ReplacesSessionAndOldStreamGoesOn()
    {
        await using var dialer = new InMemorySmuxDialer();
        await using var pool = CreatePool(dialer, 1, Expire);
        var (old, oldStream) = await pool.OpenStreamAsync(CancellationToken.None);

        _time.Advance(Expire);
        var (same, _) = await pool.OpenStreamAsync(CancellationToken.None);
        Assert.Same(old, same);

        _time.Advance(TimeSpan.FromSeconds(1));
        var (fresh, freshStream) = await pool.OpenStreamAsync(CancellationToken.None);

        Assert.NotSame(old, fresh);
        Assert.Equal(2, dialer.Dials);
        Assert.False(old.IsClosed);
        Assert.Equal(2, pool.LiveSessions);
        await InMemorySmuxDialer.AssertEchoAsync(oldStream, "expired but open");
        await InMemorySmuxDialer.AssertEchoAsync(freshStream, "fresh");
    }

    [Fact]
    public async Task Scavenger_ExpiredSessionWithoutStreams_ClosedOnlyAtTtl()
    {
        // kcptun's scavenger closes an expired session at expiry + scavengettl, not when its last stream ends.
        await using var dialer = new InMemorySmuxDialer();
        await using var pool = CreatePool(dialer, 1, Expire);
        var (old, oldStream) = await pool.OpenStreamAsync(CancellationToken.None);
        await oldStream.Output.CompleteAsync();
        await oldStream.Input.CompleteAsync();
        _time.Advance(Expire + TimeSpan.FromSeconds(1));
        await pool.OpenStreamAsync(CancellationToken.None);
        await TestWaits.WaitUntilAsync(() => old.Smux.StreamCount == 0, "the old stream to end");

        _time.Advance(Ttl - TimeSpan.FromSeconds(2));
        Assert.False(old.IsClosed);

        _time.Advance(TimeSpan.FromSeconds(1));
        await TestWaits.WaitUntilAsync(() => old.IsClosed, "the scavenger to close the expired session");
        await TestWaits.WaitUntilAsync(() => pool.LiveSessions == 1, "the pool to forget the scavenged session");
    }

    [Fact]
    public async Task Scavenger_ExpiredSessionWithOpenStream_ClosesItAtTtl()
    {
        await using var dialer = new InMemorySmuxDialer();
        await using var pool = CreatePool(dialer, 1, Expire);
        var (old, oldStream) = await pool.OpenStreamAsync(CancellationToken.None);

        _time.Advance(Expire + Ttl);

        await TestWaits.WaitUntilAsync(() => old.IsClosed, "the scavenger to close the expired session");
        await Assert.ThrowsAsync<IOException>(async () => await oldStream.Input.ReadAsync().AsTask().WaitAsync(TestWaits.Bound));
        var (fresh, stream) = await pool.OpenStreamAsync(CancellationToken.None);
        Assert.NotSame(old, fresh);
        await InMemorySmuxDialer.AssertEchoAsync(stream, "after the scavenger");
    }

    [Fact]
    public async Task OpenStream_SessionClosedByPeer_ReplacedOnNextUse()
    {
        await using var dialer = new InMemorySmuxDialer();
        await using var pool = CreatePool(dialer, 1, TimeSpan.Zero);
        var (first, _) = await pool.OpenStreamAsync(CancellationToken.None);

        await dialer.Server(0).DisposeAsync();
        await TestWaits.WaitUntilAsync(() => first.IsClosed, "the client to see the session close");
        var (second, stream) = await pool.OpenStreamAsync(CancellationToken.None);

        Assert.NotSame(first, second);
        Assert.Equal(2, dialer.Dials);
        await InMemorySmuxDialer.AssertEchoAsync(stream, "redialed");
    }

    [Fact]
    public async Task OpenStream_DialedSessionDead_RedialsOnce()
    {
        await using var dialer = new InMemorySmuxDialer();
        await using var pool = CreatePool(dialer, 1, TimeSpan.Zero);
        dialer.DeadDials = 1;

        var (session, stream) = await pool.OpenStreamAsync(CancellationToken.None);

        Assert.Equal(2, dialer.Dials);
        Assert.False(session.IsClosed);
        await InMemorySmuxDialer.AssertEchoAsync(stream, "second dial");
    }

    [Fact]
    public async Task OpenStream_RedialedSessionDeadToo_ThrowsNamingBothFailures()
    {
        await using var dialer = new InMemorySmuxDialer();
        await using var pool = CreatePool(dialer, 1, TimeSpan.Zero);
        dialer.DeadDials = 2;

        var error = await Assert.ThrowsAsync<IOException>(async () => await pool.OpenStreamAsync(CancellationToken.None));

        Assert.Equal(2, dialer.Dials);
        Assert.Contains("pool-test", error.Message, StringComparison.Ordinal);
        Assert.Contains("redialed", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenStream_DialFails_NextOpenDialsAgain()
    {
        var failures = 1;
        await using var dialer = new InMemorySmuxDialer();
        await using var pool = new SmuxSessionPool(1, TimeSpan.Zero, Ttl, _time, token => Interlocked.Decrement(ref failures) >= 0 ? Task.FromException<SmuxPoolSession>(new IOException("no answer")) : dialer.DialAsync(token), "pool-test");

        await Assert.ThrowsAsync<IOException>(async () => await pool.OpenStreamAsync(CancellationToken.None));
        var (_, stream) = await pool.OpenStreamAsync(CancellationToken.None);

        await InMemorySmuxDialer.AssertEchoAsync(stream, "after a failed dial");
    }

    [Fact]
    public async Task DisposeAsync_ExpiredAndCurrentSessions_ClosesEvery()
    {
        await using var dialer = new InMemorySmuxDialer();
        await using var pool = CreatePool(dialer, 2, Expire);
        var (a, _) = await pool.OpenStreamAsync(CancellationToken.None);
        var (b, _) = await pool.OpenStreamAsync(CancellationToken.None);
        _time.Advance(Expire + TimeSpan.FromSeconds(1));
        var (c, _) = await pool.OpenStreamAsync(CancellationToken.None);
        Assert.Equal(3, pool.LiveSessions);

        await pool.DisposeAsync();

        Assert.True(a.IsClosed && b.IsClosed && c.IsClosed);
        Assert.Equal(0, pool.LiveSessions);
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await pool.OpenStreamAsync(CancellationToken.None));
    }

    [Fact]
    public async Task OpenStream_WarmPool_AllocatesNothingBeyondTheStream()
    {
        await using var dialer = new InMemorySmuxDialer();
        await using var pool = CreatePool(dialer, 1, Expire);
        var (session, _) = await pool.OpenStreamAsync(CancellationToken.None);
        var direct = new long[101];
        var pooled = new long[101];
        for (var i = 0; i < direct.Length; i++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            _ = await session.Smux.OpenStreamAsync();
            direct[i] = GC.GetAllocatedBytesForCurrentThread() - before;

            before = GC.GetAllocatedBytesForCurrentThread();
            _ = await pool.OpenStreamAsync(CancellationToken.None);
            pooled[i] = GC.GetAllocatedBytesForCurrentThread() - before;
        }

        Array.Sort(direct);
        Array.Sort(pooled);
        Assert.Equal(direct[50], pooled[50]);
    }

    private SmuxSessionPool CreatePool(InMemorySmuxDialer dialer, int sessions, TimeSpan autoExpire) =>
        new(sessions, autoExpire, Ttl, _time, dialer.DialAsync, "pool-test");
}
