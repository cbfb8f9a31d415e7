using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using KcpKestrel.Middleware.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Xunit.Abstractions;

namespace KcpKestrel.Middleware.Tests;

public sealed class RateLimiterTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task NewConnectionLimit_BurstOnEveryListener_Holds()
    {
        const int limit = 60;
        await using var host = await ThreeListenerHost.StartAsync(l => l.UseConnectionRateLimiter(o =>
        {
            o.NewConnectionLimit = limit;
            o.NewConnectionWindow = TimeSpan.FromHours(1);
        }));
        using var refused = MetricsReader.Collect<long>(host.Services, "kcpkestrel.connections.refused");

        var attempts = new Dictionary<Listener, int> { [Listener.Kcp] = 200, [Listener.TunedTcp] = 1000, [Listener.Sockets] = 1000 };
        var results = await Task.WhenAll(ThreeListenerHost.All.Select(l => BurstAsync(host, l, attempts[l], l == Listener.Kcp ? 16 : 64)));

        foreach (var (listener, accepted, closed) in results)
        {
            Assert.Equal(limit, accepted);
            Assert.Equal(attempts[listener] - limit, closed);
            Assert.Equal(limit, host.Handler.AcceptedOn(host.EndPoint(listener).Port));
            Assert.Equal(attempts[listener] - limit, MetricsReader.Sum(refused, "endpoint", host.EndpointTag(listener), "rate_limited"));
        }
    }

    [Fact]
    public async Task ConcurrentLimit_RefusesExtraConnections_UntilOneCloses()
    {
        const int limit = 5;
        await using var host = await ThreeListenerHost.StartAsync(l => l.UseConnectionRateLimiter(o => o.ConcurrentConnectionLimit = limit));
        using var refused = MetricsReader.Collect<long>(host.Services, "kcpkestrel.connections.refused");

        await Task.WhenAll(ThreeListenerHost.All.Select(async listener =>
        {
            var held = new List<TestClient>();
            for (var i = 0; i < limit; i++)
            {
                var client = await host.ConnectAsync(listener);
                Assert.True(await client.ReadGreetingAsync(Step), $"{listener}: connection {i} under the limit was refused");
                held.Add(client);
            }

            var extraRefused = 0;
            for (var i = 0; i < 20; i++)
            {
                await using var extra = await host.ConnectAsync(listener);
                Assert.False(await extra.ReadGreetingAsync(Step), $"{listener}: connection over the limit was accepted");
                extraRefused++;
            }

            await held[0].DisposeAsync();
            held.RemoveAt(0);

            // The slot frees when the server side of the closed connection has ended; retry until then.
            var deadline = Stopwatch.StartNew();
            var accepted = false;
            while (!accepted && deadline.Elapsed < Step)
            {
                await using var again = await host.ConnectAsync(listener);
                accepted = await again.ReadGreetingAsync(Step);
                if (!accepted)
                {
                    extraRefused++;
                    await Task.Delay(50);
                }
            }

            Assert.True(accepted, $"{listener}: slot never freed");
            Assert.Equal(extraRefused, MetricsReader.Sum(refused, "endpoint", host.EndpointTag(listener), "concurrency_limited"));
            foreach (var client in held)
            {
                await client.DisposeAsync();
            }
        }));
    }

    [Fact]
    public async Task BandwidthLimit_16MiBEachWay_StaysUnderTheCapAndNearIt()
    {
        // Low enough that KCP keeps up on a loaded 2-core machine, high enough that 16 MiB takes ~4 s.
        const long rate = 4L * 1024 * 1024;
        const int size = 16 * 1024 * 1024;
        await using var host = await ThreeListenerHost.StartAsync(l => l.UseConnectionRateLimiter(o =>
        {
            o.BandwidthLimit = rate;
            o.BandwidthBurst = 64 * 1024;
        }));

        var payload = new byte[size];
        new Random(12).NextBytes(payload);
        // One listener at a time: three transfers at once starve KCP's loop of CPU on this shared 2-core machine.
        var rates = new List<(Listener listener, double bytesPerSecond)>();
        foreach (var listener in ThreeListenerHost.All)
        {
            await using var client = await host.ConnectAsync(listener);
            Assert.True(await client.ReadGreetingAsync(Step));
            var watch = Stopwatch.StartNew();
            var send = Task.Run(async () =>
            {
                for (var offset = 0; offset < size; offset += 64 * 1024)
                {
                    await client.Stream.WriteAsync(payload.AsMemory(offset, 64 * 1024));
                }

                await client.Stream.FlushAsync();
            });
            var back = new byte[size];
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await client.Stream.ReadExactlyAsync(back, cts.Token);
            await send;
            var elapsed = watch.Elapsed.TotalSeconds;
            Assert.True(payload.AsSpan().SequenceEqual(back), $"{listener}: echo corrupted");
            rates.Add((listener, size / elapsed));
        }

        foreach (var (listener, bytesPerSecond) in rates)
        {
            var ratio = bytesPerSecond / rate;
            output.WriteLine($"{listener}: {bytesPerSecond / 1048576:F3} MiB/s ({ratio:P1} of the limit)");
            // Over the cap is the limiter's failure whatever the load. Well under it can be a starved 2-core CI
            // machine (a parallel test run has pushed this to 0.9x), so the lower bound only catches a limiter
            // that throttles far too hard; the bucket's exact refill is tested on a manual clock (TokenBucketTests).
            Assert.True(ratio < 1.1, $"{listener}: {bytesPerSecond / 1048576:F2} MiB/s exceeds {rate / 1048576} MiB/s by more than 10%");
            Assert.True(ratio > 0.7, $"{listener}: {bytesPerSecond / 1048576:F2} MiB/s is far below {rate / 1048576} MiB/s");
        }
    }

    [Fact]
    public async Task Limiters_HostStops_AreDisposedAndLaterConnectionsRefused()
    {
        var lifetime = new StoppableLifetime();
        using var services = new ServiceCollection().AddSingleton<IHostApplicationLifetime>(lifetime).BuildServiceProvider();
        var reached = 0;
        var pipeline = new ConnectionBuilder(services)
            .UseConnectionRateLimiter(o =>
            {
                o.NewConnectionLimit = 100;
                o.ConcurrentConnectionLimit = 10;
            })
            .Run(_ =>
            {
                Interlocked.Increment(ref reached);
                return Task.CompletedTask;
            })
            .Build();

        var before = new DefaultConnectionContext("before") { RemoteEndPoint = new IPEndPoint(IPAddress.Loopback, 5000) };
        await pipeline(before);
        Assert.Equal(1, reached);
        Assert.False(before.ConnectionClosed.IsCancellationRequested);

        lifetime.Stop();

        var after = new DefaultConnectionContext("after") { RemoteEndPoint = new IPEndPoint(IPAddress.Loopback, 5001) };
        await pipeline(after);
        Assert.Equal(1, reached);
        using var closed = new SemaphoreSlim(0);
        using var registration = after.ConnectionClosed.Register(() => closed.Release());
        Assert.True(await closed.WaitAsync(Step), "a connection after the stop was not closed");
    }

    private static async Task<(Listener Listener, int Accepted, int Closed)> BurstAsync(ThreeListenerHost host, Listener listener, int attempts, int parallel)
    {
        var accepted = 0;
        var closed = 0;
        using var gate = new SemaphoreSlim(parallel);
        await Task.WhenAll(Enumerable.Range(0, attempts).Select(async _ =>
        {
            await gate.WaitAsync();
            try
            {
                await using var client = await host.ConnectAsync(listener);
                if (await client.ReadGreetingAsync(Step))
                {
                    Interlocked.Increment(ref accepted);
                }
                else
                {
                    Interlocked.Increment(ref closed);
                }
            }
            finally
            {
                gate.Release();
            }
        }));
        return (listener, accepted, closed);
    }

    private sealed class StoppableLifetime : IHostApplicationLifetime, IDisposable
    {
        private readonly CancellationTokenSource _stopped = new();

        public CancellationToken ApplicationStarted => CancellationToken.None;

        public CancellationToken ApplicationStopping => CancellationToken.None;

        public CancellationToken ApplicationStopped => _stopped.Token;

        public void StopApplication() => Stop();

        public void Stop() => _stopped.Cancel();

        public void Dispose() => _stopped.Dispose();
    }
}
