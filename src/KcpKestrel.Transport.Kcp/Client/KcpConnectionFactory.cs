using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using KcpKestrel.Protocols.Qpp;
using KcpKestrel.Transport.Kcp.Buffers;
using KcpKestrel.Transport.Kcp.Diagnostics;
using KcpKestrel.Transport.Kcp.Io.Datagrams;
using KcpKestrel.Transport.Kcp.Io.Loops;
using KcpKestrel.Transport.Kcp.Multiplexing;
using KcpKestrel.Transport.Kcp.Sessions;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace KcpKestrel.Transport.Kcp.Client;

/// <summary>
/// Dials KCP servers (KcpKestrel or kcp-go) and returns each session as a <see cref="ConnectionContext"/>.
/// Each connection has a connected UDP socket of its own; the factory's I/O loops serve them all.
/// Dialing runs in a Polly pipeline: a timeout per attempt and jittered exponential retries.
/// With <see cref="KcpOptions.Multiplexing"/> = <see cref="KcpMultiplexing.Smux"/> each connection is instead an smux
/// stream on one of <see cref="KcpClientOptions.SessionsPerEndpoint"/> shared sessions per endpoint, as kcptun's
/// client opens them (round robin, <see cref="KcpClientOptions.AutoExpire"/>, <see cref="KcpClientOptions.ScavengeTtl"/>).
/// A <see cref="KcpEndPoint"/> with a port range has each new KCP session (each dial attempt, as kcptun redials) go to a
/// port drawn at random from the range, as kcptun's <c>--remoteaddr IP:minport-maxport</c>.
/// </summary>
public sealed class KcpConnectionFactory : IConnectionFactory, IAsyncDisposable
{
    private readonly KcpClientOptions _options;
    private readonly ResiliencePipeline _dial;
    private readonly KcpIoLoop[] _loops;
    private readonly QppPad? _qpp;
    private readonly byte[] _derivedKey;
    
    // Not disposed with the factory: connections it made may outlive it, and keep using the pool.
    private readonly BlockMemoryPool _pool = new();
    private readonly ConcurrentDictionary<KcpEndPoint, SmuxSessionPool> _smuxPools = new();
    private readonly ILogger _logger;
    private int _next;
    private int _sessionsDialed;
    private int _dialAttempts;
    private int _disposed;
    private int _bufferWarned;

    /// <summary>Creates a factory; its loops start now and stop at <see cref="DisposeAsync"/>.</summary>
    /// <param name="options">Client options; validated here.</param>
    /// <param name="dialPipeline">Replaces the dial pipeline built from <paramref name="options"/> (for example to add a circuit breaker); <see cref="ResiliencePipeline.Empty"/> turns resilience off.</param>
    /// <param name="loggerFactory">Receives the factory's warnings (kcptun's QPP key and pad count warnings); none by default.</param>
    public KcpConnectionFactory(KcpClientOptions? options = null, ResiliencePipeline? dialPipeline = null, ILoggerFactory? loggerFactory = null)
    {
        _options = options ?? new KcpClientOptions();
        _options.Validate();

        // Once per factory, as kcptun's client builds one pad set per process: deriving pads is slow.
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger(KcpLog.Category);
        _qpp = QppStreams.CreatePad(_options.Kcp, _logger);
        _derivedKey = KcpCrypt.DeriveKey(_options.Kcp);
        _dial = dialPipeline ?? BuildDialPipeline(_options);
        _loops = new KcpIoLoop[_options.IoLoopCount];
        for (var i = 0; i < _loops.Length; i++)
        {
            _loops[i] = new KcpIoLoop($"kcp-client-{i}", Math.Max(2048, _options.Kcp.Mtu + 64), i == 0 ? UdpIo.Resolve(_options.Kcp.IoOverrides.Mode) : _loops[0].Mode, _options.Kcp.IoOverrides);
            _loops[i].Start();
        }
    }

    /// <summary>How this factory's loops move datagrams, chosen when it was created.</summary>
    internal UdpIoMode IoMode => _loops[0].Mode;

    /// <summary>KCP sessions dialed successfully (one per connection, or one per pooled smux session).</summary>
    internal int SessionsDialed => Volatile.Read(ref _sessionsDialed);

    /// <summary>Dial attempts made, retries included (the bench reports how many a failover took).</summary>
    internal int DialAttempts => Volatile.Read(ref _dialAttempts);

    /// <summary>The pooled smux sessions to <paramref name="remote"/> that are not closed yet (tests kill one under the pool).</summary>
    internal SmuxPoolSession[] SmuxSessionsTo(IPEndPoint remote) => _smuxPools.TryGetValue(new KcpEndPoint(remote), out var pool) ? pool.Snapshot() : [];

    /// <summary>The clock of smux session expiry and scavenging (tests inject a fake one).</summary>
    internal TimeProvider PoolTime { get; init; } = TimeProvider.System;

    /// <inheritdoc />
    public async ValueTask<ConnectionContext> ConnectAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var remote = endpoint switch
        {
            KcpEndPoint kcp => kcp,
            IPEndPoint ip => new KcpEndPoint(ip),
            _ => throw new NotSupportedException($"KCP dials an {nameof(KcpEndPoint)} or an {nameof(IPEndPoint)}, not {endpoint?.GetType().Name ?? "null"}."),
        };

        if (_options.Kcp.Multiplexing == KcpMultiplexing.Smux)
        {
            // A lost GetOrAdd race leaves an unused pool behind: pools dial lazily, so it holds nothing.
            var pool = _smuxPools.GetOrAdd(remote, static (target, factory) => factory.CreateSmuxPool(target), this);
            var (session, stream) = await pool.OpenStreamAsync(cancellationToken).ConfigureAwait(false);
            return new SmuxStreamConnection(stream, session.Smux, session.Connection, _qpp);
        }

        return await DialAsync(remote, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Dials one KCP session through the resilience pipeline; every attempt draws its own port from a range.</summary>
    private async ValueTask<ConnectionContext> DialAsync(KcpEndPoint remote, CancellationToken cancellationToken)
    {
        var connection = await _dial.ExecuteAsync(
            static async (state, token) => await state.Factory.DialOnceAsync(state.Remote.PickRemote(), token).ConfigureAwait(false),
            (Factory: this, Remote: remote),
            cancellationToken).ConfigureAwait(false);
        Interlocked.Increment(ref _sessionsDialed);
        return connection;
    }

    private SmuxSessionPool CreateSmuxPool(KcpEndPoint remote) => new(
        _options.SessionsPerEndpoint,
        _options.AutoExpire,
        _options.ScavengeTtl,
        PoolTime,
        async cancellationToken => SmuxPoolSession.Create(await DialAsync(remote, cancellationToken).ConfigureAwait(false), _options.Kcp),
        remote.ToString());

    private async ValueTask<ConnectionContext> DialOnceAsync(IPEndPoint remote, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _dialAttempts);
        var socket = UdpSockets.Connect(remote, _options.Kcp.SocketBufferSize);
        WarnIfBuffersCapped(socket, remote);
        var loop = _loops[(int)((uint)Interlocked.Increment(ref _next) % (uint)_loops.Length)];
        var dial = new KcpClientSocket(socket, remote, _options.Kcp, _derivedKey, _pool, _options.WaitForPeer, loop);
        loop.Post(dial);
        try
        {
            return await dial.Connected.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            dial.Abandon();
            throw;
        }
    }

    private void WarnIfBuffersCapped(Socket socket, IPEndPoint remote)
    {
        var asked = _options.Kcp.SocketBufferSize;
        var (receive, send) = UdpSocketBuffers.Measure(socket);
        if ((receive < asked || send < asked) && Interlocked.Exchange(ref _bufferWarned, 1) == 0)
        {
            KcpLog.SocketBuffersCapped(_logger, "client to", remote, receive, send, asked);
        }
    }

    /// <summary>The loops' counters, summed (the bench reports kernel drops from them).</summary>
    internal KcpTransportCounters Counters
    {
        get
        {
            var total = new KcpTransportCounters();
            foreach (var loop in _loops)
            {
                total.Add(loop.Counters);
            }

            return total;
        }
    }

    private static ResiliencePipeline BuildDialPipeline(KcpClientOptions options)
    {
        var builder = new ResiliencePipelineBuilder();
        if (options.ConnectRetries > 0)
        {
            builder.AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = options.ConnectRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.ConnectRetryDelay,
                ShouldHandle = new PredicateBuilder().Handle<TimeoutRejectedException>().Handle<SocketException>().Handle<IOException>(),
            });
        }

        if (options.WaitForPeer)
        {
            builder.AddTimeout(options.ConnectTimeout);
        }

        return builder.Build();
    }

    /// <summary>Closes every pooled smux session, then stops the loops; connections still open end with them.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Array.Exists(_loops, static loop => loop.IsLoopThread))
        {
            // An app running inline (UnsafePreferInlineScheduling) disposes us from one of our loops: a loop cannot
            // stop and free itself on its own thread (it would go on running on freed memory), so finish on the pool.
            await Task.Run(async () => await DisposeAsync().ConfigureAwait(false)).ConfigureAwait(false);
            return;
        }

        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        foreach (var pool in _smuxPools.Values)
        {
            await pool.DisposeAsync().ConfigureAwait(false);
        }

        foreach (var loop in _loops)
        {
            loop.Dispose();
        }

        CryptographicOperations.ZeroMemory(_derivedKey);
    }
}
