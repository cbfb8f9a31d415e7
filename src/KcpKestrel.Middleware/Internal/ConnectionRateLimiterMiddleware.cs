using System.Net;
using System.Net.Sockets;
using System.Threading.RateLimiting;
using KcpKestrel.Middleware.Pipes;
using Microsoft.AspNetCore.Connections;

namespace KcpKestrel.Middleware.Internal;

/// <summary>
/// New-connection rate per address prefix and concurrent connections per peer (System.Threading.RateLimiting
/// partitioned limiters), and a per-connection bandwidth limit on the transport pipes. The partitioned
/// limiters run a replenishment timer for their life, so they are disposed when the host stops; a
/// connection that still arrives after that is refused rather than failing on a disposed limiter.
/// </summary>
internal sealed class ConnectionRateLimiterMiddleware : IDisposable
{
    private readonly ConnectionDelegate _next;
    private readonly ConnectionRateLimiterOptions _options;
    private readonly ConnectionInstruments _instruments;
    private readonly ConnectionTags _tags;
    private readonly TimeProvider _timeProvider;
    private readonly PartitionedRateLimiter<IPAddress>? _newConnections;
    private readonly PartitionedRateLimiter<IPAddress>? _concurrent;
    private const string StoppedMessage = "Connection refused: the server is stopping.";
    private readonly string _rateMessage;
    private readonly string _concurrencyMessage;
    private long _accepted;
    private long _refusedRate;
    private long _refusedConcurrency;
    private volatile bool _disposed;

    public ConnectionRateLimiterMiddleware(ConnectionDelegate next, ConnectionRateLimiterOptions options, ConnectionInstruments instruments, ConnectionTags tags, TimeProvider timeProvider)
    {
        _next = next;
        _options = options;
        _instruments = instruments;
        _tags = tags;
        _timeProvider = timeProvider;
        if (options.NewConnectionLimit > 0)
        {
            var window = new FixedWindowRateLimiterOptions
            {
                PermitLimit = options.NewConnectionLimit,
                Window = options.NewConnectionWindow,
                QueueLimit = 0,
                AutoReplenishment = true,
            };
            _newConnections = PartitionedRateLimiter.Create<IPAddress, IPAddress>(key => RateLimitPartition.GetFixedWindowLimiter(key, _ => window));
        }

        if (options.ConcurrentConnectionLimit > 0)
        {
            var concurrency = new ConcurrencyLimiterOptions { PermitLimit = options.ConcurrentConnectionLimit, QueueLimit = 0 };
            _concurrent = PartitionedRateLimiter.Create<IPAddress, IPAddress>(key => RateLimitPartition.GetConcurrencyLimiter(key, _ => concurrency));
        }

        _rateMessage = $"Connection refused: more than {options.NewConnectionLimit} new connections per {options.NewConnectionWindow} from this address range.";
        _concurrencyMessage = $"Connection refused: more than {options.ConcurrentConnectionLimit} concurrent connections from this address (IPv6: this prefix).";
    }

    public long Accepted => Interlocked.Read(ref _accepted);

    public long RefusedRate => Interlocked.Read(ref _refusedRate);

    public long RefusedConcurrency => Interlocked.Read(ref _refusedConcurrency);

    public bool IsDisposed => _disposed;

    public void Dispose()
    {
        _disposed = true;
        _newConnections?.Dispose();
        _concurrent?.Dispose();
    }

    public async Task OnConnectionAsync(ConnectionContext context)
    {
        var address = ConnectionTags.RemoteAddress(context);
        RateLimitLease? concurrencyLease = null;
        if (_disposed)
        {
            context.Abort(new ConnectionAbortedException(StoppedMessage));
            return;
        }

        if (address is not null)
        {
            if (_newConnections is not null)
            {
                var prefix = AddressPrefix.Network(address, address.AddressFamily == AddressFamily.InterNetwork ? _options.IPv4PrefixLength : _options.IPv6PrefixLength);
                using var lease = TryAcquire(_newConnections, prefix);
                if (lease is null)
                {
                    context.Abort(new ConnectionAbortedException(StoppedMessage));
                    return;
                }

                if (!lease.IsAcquired)
                {
                    Interlocked.Increment(ref _refusedRate);
                    _instruments.Refuse(context, _tags, CloseReasons.RateLimited, _rateMessage);
                    return;
                }
            }

            if (_concurrent is not null)
            {
                concurrencyLease = TryAcquire(_concurrent, PeerKey(address));
                if (concurrencyLease is null)
                {
                    context.Abort(new ConnectionAbortedException(StoppedMessage));
                    return;
                }

                if (!concurrencyLease.IsAcquired)
                {
                    concurrencyLease.Dispose();
                    Interlocked.Increment(ref _refusedConcurrency);
                    _instruments.Refuse(context, _tags, CloseReasons.ConcurrencyLimited, _concurrencyMessage);
                    return;
                }
            }
        }

        Interlocked.Increment(ref _accepted);
        ThrottleObserver? throttle = null;
        ObservedDuplexPipe? observed = null;
        try
        {
            if (_options.BandwidthLimit > 0)
            {
                throttle = new ThrottleObserver(_options.BandwidthLimit, _options.EffectiveBurst, _timeProvider);
                observed = ObservedDuplexPipe.Attach(context, throttle, _timeProvider);
            }

            await _next(context).ConfigureAwait(false);
        }
        finally
        {
            if (observed is not null)
            {
                observed.Detach(context, throttle!);
            }

            concurrencyLease?.Dispose();
        }
    }

    /// <summary>
    /// The concurrency partition of a peer: its IPv4 address, or its IPv6 prefix of <see cref="ConnectionRateLimiterOptions.IPv6PrefixLength"/>
    /// bits (one host usually owns a /64). <paramref name="address"/> is already folded from IPv4-mapped IPv6.
    /// </summary>
    internal IPAddress PeerKey(IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetworkV6 ? AddressPrefix.Network(address, _options.IPv6PrefixLength) : address;

    // The host can stop (and dispose the limiters) between the check above and the acquire.
    private static RateLimitLease? TryAcquire(PartitionedRateLimiter<IPAddress> limiter, IPAddress key)
    {
        try
        {
            return limiter.AttemptAcquire(key);
        }
        catch (ObjectDisposedException)
        {
            return null;
        }
    }
}
