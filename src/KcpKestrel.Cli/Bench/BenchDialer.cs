using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using KcpKestrel.Transport.Kcp;
using KcpKestrel.Transport.Kcp.Client;
using Polly;
using Polly.Retry;

namespace KcpKestrel.Cli.Bench;

/// <summary>
/// Opens bench connections: KCP through <see cref="KcpConnectionFactory"/> (a session each, or with smux a stream on
/// pooled sessions), TCP as a plain socket; or hands out an HTTP handler that dials the same way.
/// </summary>
internal sealed class BenchDialer : IAsyncDisposable
{
    private readonly IPEndPoint _target;
    private readonly KcpConnectionFactory? _factory;
    private readonly ResiliencePipeline _tcpDial;
    private int _tcpConnections;
    private int _tcpAttempts;

    /// <summary>The bench's dial retries (the factory's default is 3): a redial through a balancer may first meet a dead instance.</summary>
    public const int DefaultConnectRetries = 5;

    private BenchDialer(IPEndPoint target, KcpConnectionFactory? factory, ResiliencePipeline? tcpDial = null)
    {
        _target = target;
        _factory = factory;
        _tcpDial = tcpDial ?? ResiliencePipeline.Empty;
    }

    public bool IsKcp => _factory is not null;

    public string Transport => IsKcp ? "kcp" : "tcp";

    /// <summary>KCP sessions dialed so far (with smux, the pool's sessions, not its streams); TCP connections on TCP.</summary>
    public int SessionsOpened => _factory?.SessionsDialed ?? Volatile.Read(ref _tcpConnections);

    /// <summary>Dial attempts, retries included (KCP: every Polly attempt; TCP: every connect).</summary>
    public int DialAttempts => _factory?.DialAttempts ?? Volatile.Read(ref _tcpAttempts);

    /// <summary>Datagrams the kernel dropped before the client's loops read them (SO_RXQ_OVFL; 0 on TCP).</summary>
    public long KernelDrops => _factory?.Counters.KernelDrops ?? 0;

    /// <param name="target">The KCP server.</param>
    /// <param name="options">KCP settings (smux and compression included).</param>
    /// <param name="ioLoops">Client I/O loops.</param>
    /// <param name="configure">Adjusts the client options (the smux pool's settings, the dial's retries).</param>
    public static BenchDialer Kcp(IPEndPoint target, KcpOptions options, int ioLoops = 1, Action<KcpClientOptions>? configure = null)
    {
        var client = new KcpClientOptions
        {
            Kcp = options,
            IoLoopCount = ioLoops,
            ConnectRetries = DefaultConnectRetries,
        };
        configure?.Invoke(client);
        return new(target, new KcpConnectionFactory(client));
    }

    /// <param name="target">The TCP server.</param>
    /// <param name="retries">Connects after a refused or timed-out first one, with the KCP dial's backoff (jittered exponential from 200 ms).</param>
    /// <param name="timeout">How long one connect may take (null: the kernel's own SYN retries decide).</param>
    public static BenchDialer Tcp(IPEndPoint target, int retries = 0, TimeSpan? timeout = null)
    {
        var builder = new ResiliencePipelineBuilder();
        if (retries > 0)
        {
            var defaults = new KcpClientOptions();
            builder.AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = retries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = defaults.ConnectRetryDelay,
                ShouldHandle = new PredicateBuilder().Handle<SocketException>().Handle<Polly.Timeout.TimeoutRejectedException>(),
            });
        }

        if (timeout is { } perAttempt)
        {
            builder.AddTimeout(perAttempt);
        }

        return new(target, null, builder.Build());
    }

    public async Task<BenchConnection> ConnectAsync(CancellationToken cancellationToken)
    {
        if (_factory is not null)
        {
            var connection = await _factory.ConnectAsync(_target, cancellationToken).ConfigureAwait(false);
            return new BenchConnection(connection);
        }

        return new BenchConnection(await ConnectTcpAsync(cancellationToken).ConfigureAwait(false));
    }

    /// <summary>A handler whose every HTTP connection this dialer opens, at most <paramref name="connections"/> at once.</summary>
    /// <param name="connections">The most HTTP connections at once.</param>
    /// <param name="dials">Records how long each new HTTP connection took to open (a KCP dial, a smux stream open, a TCP connect).</param>
    public HttpMessageHandler CreateHttpHandler(int connections, RttRecorder dials)
    {
        var handler = _factory is not null
            ? KcpHttpHandler.Create(_factory, new KcpEndPoint(_target), h => h.MaxConnectionsPerServer = connections)
            : new SocketsHttpHandler
            {
                MaxConnectionsPerServer = connections,
                ConnectCallback = async (_, cancellationToken) => new NetworkStream(await ConnectTcpOnceAsync(cancellationToken).ConfigureAwait(false), ownsSocket: true),
            };
        var connect = handler.ConnectCallback!;
        handler.ConnectCallback = async (context, cancellationToken) =>
        {
            var began = Stopwatch.GetTimestamp();
            var stream = await connect(context, cancellationToken).ConfigureAwait(false);
            dials.Add(began);
            return stream;
        };
        return handler;
    }

    public ValueTask DisposeAsync() => _factory?.DisposeAsync() ?? default;

    private async Task<Socket> ConnectTcpAsync(CancellationToken cancellationToken) =>
        await _tcpDial.ExecuteAsync(static async (dialer, token) => await dialer.ConnectTcpOnceAsync(token).ConfigureAwait(false), this, cancellationToken).ConfigureAwait(false);

    private async Task<Socket> ConnectTcpOnceAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _tcpAttempts);
        var socket = new Socket(_target.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(_target, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        Interlocked.Increment(ref _tcpConnections);
        return socket;
    }
}
