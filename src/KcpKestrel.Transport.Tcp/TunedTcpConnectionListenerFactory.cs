using System.Net;
using KcpKestrel.IoUring;
using KcpKestrel.Transport.Tcp.IoUring;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace KcpKestrel.Transport.Tcp;

/// <summary>
/// Kestrel listener factory for the tuned TCP listener: several SO_REUSEPORT accept loops per endpoint,
/// TCP_FASTOPEN, TCP_DEFER_ACCEPT, keep-alive and buffer tuning, a connection limit enforced at accept, and
/// back-off on accept errors. Per-connection I/O is Kestrel's own socket connection code.
/// </summary>
/// <remarks>
/// Binds <see cref="TunedTcpEndPoint"/> always, and plain <see cref="IPEndPoint"/> instances when
/// <see cref="TunedTcpOptions.BindAllIPEndPoints"/> is true. Register it with <c>IWebHostBuilder.UseTunedTcp</c>.
/// </remarks>
public sealed class TunedTcpConnectionListenerFactory : IConnectionListenerFactory, IConnectionListenerFactorySelector
{
    private readonly TunedTcpOptions _options;
    private readonly ILogger _logger;
    private readonly IMemoryPoolFactory<byte>? _memoryPoolFactory;
    private readonly List<TunedTcpConnectionListener> _listeners = [];
    private readonly List<IoUringTcpConnectionListener> _uringListeners = [];

    /// <summary>Creates the factory.</summary>
    /// <param name="options">Options used for every endpoint that carries none of its own.</param>
    /// <param name="loggerFactory">Source of the listener's logger.</param>
    public TunedTcpConnectionListenerFactory(IOptions<TunedTcpOptions> options, ILoggerFactory loggerFactory)
        : this(options, loggerFactory, null)
    {
    }

    /// <summary>Creates the factory with the memory pool factory Kestrel registers (the one its own sockets transport
    /// uses), so connections read and write through Kestrel's pinned-block pool.</summary>
    /// <param name="options">Options used for every endpoint that carries none of its own.</param>
    /// <param name="loggerFactory">Source of the listener's logger.</param>
    /// <param name="memoryPoolFactory">Kestrel's memory pool factory; null keeps the socket factory's plain array pool.</param>
    public TunedTcpConnectionListenerFactory(IOptions<TunedTcpOptions> options, ILoggerFactory loggerFactory, IMemoryPoolFactory<byte>? memoryPoolFactory)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        _options = options.Value.Clone();
        _options.Validate();
        _logger = loggerFactory.CreateLogger("KcpKestrel.Transport.Tcp");
        _memoryPoolFactory = memoryPoolFactory;
    }

    /// <summary>Listeners bound and not yet disposed.</summary>
    internal IReadOnlyList<TunedTcpConnectionListener> Listeners
    {
        get
        {
            lock (_listeners)
            {
                return [.. _listeners];
            }
        }
    }

    /// <summary>io_uring listeners bound and not yet disposed.</summary>
    internal IReadOnlyList<IoUringTcpConnectionListener> IoUringListeners
    {
        get
        {
            lock (_listeners)
            {
                return [.. _uringListeners];
            }
        }
    }

    /// <summary>Why io_uring cannot run here, or null (a seam: tests simulate a refusing kernel).</summary>
    internal Func<string?> WhyNotIoUring { get; set; } = IoUringTcpSupport.WhyNot;

    /// <summary>True for a <see cref="TunedTcpEndPoint"/>, and for a plain <see cref="IPEndPoint"/> when
    /// <see cref="TunedTcpOptions.BindAllIPEndPoints"/> is set.</summary>
    /// <param name="endpoint">The endpoint Kestrel wants bound.</param>
    /// <returns>Whether this factory binds <paramref name="endpoint"/>.</returns>
    public bool CanBind(EndPoint endpoint) =>
        endpoint is TunedTcpEndPoint
        || (_options.BindAllIPEndPoints && endpoint is not null && endpoint.GetType() == typeof(IPEndPoint));

    /// <summary>Binds the accept loops' listening sockets and starts accepting.</summary>
    /// <param name="endpoint">An <see cref="IPEndPoint"/>; a <see cref="TunedTcpEndPoint"/> may carry its own options.</param>
    /// <param name="cancellationToken">Unused: binding does not block.</param>
    /// <returns>The listener; its <see cref="IConnectionListener.EndPoint"/> is a <see cref="TunedTcpEndPoint"/> with the bound port.</returns>
    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        if (endpoint is not IPEndPoint ipEndPoint)
        {
            throw new NotSupportedException($"The tuned TCP listener binds IP endpoints only, not {endpoint.GetType().Name}.");
        }

        var options = (endpoint as TunedTcpEndPoint)?.Options?.Clone() ?? _options;
        options.Validate();
        if (options.Engine == TcpEngine.IoUring && TryBindIoUring(ipEndPoint, options) is { } uring)
        {
            return new ValueTask<IConnectionListener>(uring);
        }

        var listener = new TunedTcpConnectionListener(ipEndPoint, options, _logger, Forget, _memoryPoolFactory);
        listener.Bind();
        lock (_listeners)
        {
            _listeners.Add(listener);
        }

        return new ValueTask<IConnectionListener>(listener);
    }

    private IoUringTcpConnectionListener? TryBindIoUring(IPEndPoint endpoint, TunedTcpOptions options)
    {
        var why = WhyNotIoUring();
        if (why is null)
        {
            var listener = new IoUringTcpConnectionListener(endpoint, options, _logger, Forget, _memoryPoolFactory);
            try
            {
                listener.Bind();
                lock (_listeners)
                {
                    _uringListeners.Add(listener);
                }

                return listener;
            }
            catch (IoUringUnavailableException e)
            {
                why = e.Message;
            }
        }

        IoUringTcpLog.FallingBack(_logger, endpoint, why);
        return null;
    }

    private void Forget(IoUringTcpConnectionListener listener)
    {
        lock (_listeners)
        {
            _uringListeners.Remove(listener);
        }
    }

    private void Forget(TunedTcpConnectionListener listener)
    {
        lock (_listeners)
        {
            _listeners.Remove(listener);
        }
    }
}
