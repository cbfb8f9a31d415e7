using System.Buffers;
using System.Net;
using System.Net.Sockets;
using KcpKestrel.Transport.Kcp.Buffers;
using KcpKestrel.Transport.Kcp.Io.Datagrams;
using KcpKestrel.Transport.Kcp.Io.Loops;
using KcpKestrel.Transport.Kcp.Sessions;
using Microsoft.AspNetCore.Connections;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace KcpKestrel.Transport.Kcp.Client;

/// <summary>
/// Dials KCP servers (KcpKestrel or kcp-go) and returns each session as a <see cref="ConnectionContext"/>.
/// Each connection has a connected UDP socket of its own; the factory's I/O loops serve them all.
/// Dialing runs in a Polly pipeline: a timeout per attempt and jittered exponential retries.
/// </summary>
public sealed class KcpConnectionFactory : IConnectionFactory, IAsyncDisposable
{
    private readonly KcpClientOptions _options;
    private readonly ResiliencePipeline _dial;
    private readonly KcpIoLoop[] _loops;
    
    // Not disposed with the factory: connections it made may outlive it, and keep using the pool.
    private readonly BlockMemoryPool _pool = new();
    private int _next;
    private int _disposed;

    /// <summary>Creates a factory; its loops start now and stop at <see cref="DisposeAsync"/>.</summary>
    /// <param name="options">Client options; validated here.</param>
    /// <param name="dialPipeline">Replaces the dial pipeline built from <paramref name="options"/> (for example to add a circuit breaker); <see cref="ResiliencePipeline.Empty"/> turns resilience off.</param>
    public KcpConnectionFactory(KcpClientOptions? options = null, ResiliencePipeline? dialPipeline = null)
    {
        _options = options ?? new KcpClientOptions();
        _options.Validate();
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

    /// <inheritdoc />
    public async ValueTask<ConnectionContext> ConnectAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var remote = endpoint switch
        {
            KcpEndPoint kcp => kcp.IPEndPoint,
            IPEndPoint ip => ip,
            _ => throw new NotSupportedException($"KCP dials an {nameof(KcpEndPoint)} or an {nameof(IPEndPoint)}, not {endpoint?.GetType().Name ?? "null"}."),
        };

        return await _dial.ExecuteAsync(
            static async (state, token) => await state.Factory.DialOnceAsync(state.Remote, token).ConfigureAwait(false),
            (Factory: this, Remote: remote),
            cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask<ConnectionContext> DialOnceAsync(IPEndPoint remote, CancellationToken cancellationToken)
    {
        var socket = UdpSockets.Connect(remote, _options.Kcp.SocketBufferSize);
        var loop = _loops[(int)((uint)Interlocked.Increment(ref _next) % (uint)_loops.Length)];
        var dial = new KcpClientSocket(socket, remote, _options.Kcp, _pool, _options.WaitForPeer, loop);
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

    /// <summary>Stops the loops; connections still open end with them.</summary>
    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return default;
        }

        foreach (var loop in _loops)
        {
            loop.Dispose();
        }

        return default;
    }
}
