using System.Buffers;
using System.Diagnostics.Metrics;
using System.Net;
using KcpKestrel.Transport.UserTcp.Diagnostics;
using KcpKestrel.Transport.UserTcp.Listener;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace KcpKestrel.Transport.UserTcp;

// The packet path. Everything below the pipes runs on one loop thread per device queue (Io/UserTcpLoop).
//
//  in:  TUN queue read → PacketDispatcher (IP/TCP checks, checksums, options) → TcpStack.OnSegment (flow table,
//         listeners, SYN cookies) → TcpConnection.OnSegment → OnReceivable → UserTcpConnection: TCP Receive → input
//         pipe → Kestrel / the app (a full pipe stops the reads, so the TCP window closes)
//
//  out: the app / Kestrel → output pipe → UserTcpConnection (on the loop) → TcpConnection.Send (send buffer, cwnd,
//         rate limit) → ITcpSegmentOutput = PacketWriter (IP header, checksums) → TUN queue write
//
// Timers: every connection is one entry on its loop's TimerWheel (RTO, delayed ACK, persist, keep-alive, TIME-WAIT).

/// <summary>
/// Kestrel's entry to the user-space TCP transport. It binds only <see cref="UserTcpEndPoint"/>s, so Kestrel's sockets
/// transport keeps serving IP endpoints in the same host.
/// </summary>
public sealed class UserTcpConnectionListenerFactory : IConnectionListenerFactory, IConnectionListenerFactorySelector, IDisposable
{
    private readonly UserTcpOptions _defaults;
    private readonly ILoggerFactory _loggerFactory;
    private readonly MemoryPool<byte> _pool;
    private readonly UserTcpMetrics _metrics;
    private readonly object _lock = new();
    private readonly List<UserTcpConnectionListener> _listeners = [];

    /// <summary>Creates the factory (DI does this after <c>UseUserSpaceTcp</c>).</summary>
    /// <param name="options">The transport's default settings; each endpoint's own apply over them.</param>
    /// <param name="loggerFactory">Logger factory.</param>
    /// <param name="meterFactory">Creates the <c>KcpKestrel.UserTcp</c> meter; without one the factory owns a plain meter.</param>
    /// <param name="memoryPoolFactory">Creates the pool the connections' pipes use; without one, <see cref="MemoryPool{T}.Shared"/>.</param>
    public UserTcpConnectionListenerFactory(IOptions<UserTcpOptions> options, ILoggerFactory? loggerFactory = null, IMeterFactory? meterFactory = null, IMemoryPoolFactory<byte>? memoryPoolFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _defaults = options.Value;
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _pool = memoryPoolFactory?.Create(new MemoryPoolOptions { Owner = "usertcp" }) ?? MemoryPool<byte>.Shared;
        _metrics = new UserTcpMetrics(meterFactory);
    }

    /// <summary>The listeners bound so far (kept after they stop, so their counters stay readable: the CLI's report).</summary>
    internal IReadOnlyList<UserTcpConnectionListener> Listeners
    {
        get
        {
            lock (_lock)
            {
                return [.. _listeners];
            }
        }
    }

    /// <inheritdoc />
    public bool CanBind(EndPoint endpoint) => endpoint is UserTcpEndPoint;

    /// <inheritdoc />
    public async ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        if (endpoint is not UserTcpEndPoint userTcp)
        {
            throw new NotSupportedException($"The user-space TCP transport binds only {nameof(UserTcpEndPoint)}s, not {endpoint?.GetType().Name ?? "null"}.");
        }

        if (userTcp.Port == 0)
        {
            throw new ArgumentException($"{userTcp} has port 0; a user-space TCP listener needs a port from 1 to 65535 (the stack owns the address, so there is no free port to pick).", nameof(endpoint));
        }

        var options = _defaults.Clone();
        userTcp.Configure?.Invoke(options);
        options.Validate();
        var listener = new UserTcpConnectionListener(userTcp, options, _pool, _metrics, _loggerFactory.CreateLogger("KcpKestrel.Transport.UserTcp"));
        await listener.BindAsync().ConfigureAwait(false);
        lock (_lock)
        {
            _listeners.Add(listener);
        }

        return listener;
    }

    /// <summary>Releases the meter when the factory created its own.</summary>
    public void Dispose() => _metrics.Dispose();
}
