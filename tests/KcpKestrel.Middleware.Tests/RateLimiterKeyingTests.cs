using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace KcpKestrel.Middleware.Tests;

/// <summary>Which peers share a rate-limiter partition: IPv6 by prefix (a host owns a /64), IPv4-mapped peers as IPv4.</summary>
public sealed class RateLimiterKeyingTests
{
    [Theory]
    [InlineData("2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff", 64, false)]
    [InlineData("2001:db8:1:2::1", "2001:db8:1:3::1", 64, true)]
    [InlineData("2001:db8:1:2::1", "2001:db8:1:2::2", 128, true)]
    [InlineData("2001:db8:1:2::1", "2001:db8:1:3::1", 48, false)]
    [InlineData("192.0.2.1", "::ffff:192.0.2.1", 64, false)]
    [InlineData("192.0.2.1", "192.0.2.2", 64, true)]
    public async Task ConcurrentLimit_PeersInOnePrefix_ShareTheLimit(string first, string second, int ipv6PrefixLength, bool secondAccepted)
    {
        using var host = new Pipeline(o =>
        {
            o.ConcurrentConnectionLimit = 1;
            o.IPv6PrefixLength = ipv6PrefixLength;
        });

        var held = host.Connect(first);
        Assert.Equal(1, host.Reached);
        var other = host.Connect(second);
        Assert.Equal(secondAccepted ? 2 : 1, host.Reached);

        host.Release();
        await held;
        await other;

        // The first one's slot is free again.
        var again = host.Connect(second);
        Assert.Equal(secondAccepted ? 3 : 2, host.Reached);
        host.Release();
        await again;
    }

    [Theory]
    [InlineData("2001:db8:1:2::1", "2001:db8:1:2::2", 64, false)]
    [InlineData("2001:db8:1:2::1", "2001:db8:1:3::1", 64, true)]
    [InlineData("2001:db8:1:2::1", "2001:db8:1:2::2", 128, true)]
    [InlineData("198.51.100.1", "::ffff:198.51.100.2", 64, false)]
    public async Task NewConnectionLimit_PeersInOnePrefix_ShareTheLimit(string first, string second, int ipv6PrefixLength, bool secondAccepted)
    {
        using var host = new Pipeline(o =>
        {
            o.NewConnectionLimit = 1;
            o.NewConnectionWindow = TimeSpan.FromHours(1);
            o.IPv6PrefixLength = ipv6PrefixLength;
        });

        var a = host.Connect(first);
        var b = host.Connect(second);
        Assert.Equal(secondAccepted ? 2 : 1, host.Reached);
        host.Release();
        await Task.WhenAll(a, b);

        // Closing does not give a new-connection permit back within the window.
        await host.Connect(first);
        Assert.Equal(secondAccepted ? 2 : 1, host.Reached);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(129)]
    [InlineData(-1)]
    public void IPv6PrefixLength_OutOfRange_IsRefused(int length)
    {
        var e = Assert.Throws<ArgumentException>(() => new ConnectionRateLimiterOptions { IPv6PrefixLength = length }.Validate());
        Assert.Contains("IPv6PrefixLength must be 1 to 128", e.Message, StringComparison.Ordinal);
    }

    /// <summary>A rate-limited pipeline whose terminal holds every connection until <see cref="Release"/>.</summary>
    private sealed class Pipeline : IDisposable
    {
        private readonly ServiceProvider _services;
        private readonly CancellationTokenSource _stopped = new();
        private readonly ConnectionDelegate _pipeline;
        private TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _reached;

        public Pipeline(Action<ConnectionRateLimiterOptions> configure)
        {
            _services = new ServiceCollection().AddSingleton<IHostApplicationLifetime>(new Lifetime(_stopped.Token)).BuildServiceProvider();
            _pipeline = new ConnectionBuilder(_services)
                .UseConnectionRateLimiter(configure)
                .Run(_ =>
                {
                    Interlocked.Increment(ref _reached);
                    return _gate.Task;
                })
                .Build();
        }

        public int Reached => Volatile.Read(ref _reached);

        public Task Connect(string address) =>
            _pipeline(new DefaultConnectionContext(address) { RemoteEndPoint = new IPEndPoint(IPAddress.Parse(address), 5000) });

        /// <summary>Lets every connection held so far end; later ones are held again.</summary>
        public void Release()
        {
            var gate = _gate;
            _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            gate.SetResult();
        }

        public void Dispose()
        {
            _stopped.Cancel();
            _stopped.Dispose();
            _services.Dispose();
        }
    }

    private sealed class Lifetime(CancellationToken stopped) : IHostApplicationLifetime
    {
        public CancellationToken ApplicationStarted => CancellationToken.None;

        public CancellationToken ApplicationStopping => CancellationToken.None;

        public CancellationToken ApplicationStopped => stopped;

        public void StopApplication()
        {
        }
    }
}
