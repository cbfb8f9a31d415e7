using KcpKestrel.Shared;
using System.Buffers;
using System.Diagnostics.Metrics;
using System.Net;
using KcpKestrel.Transport.Kcp.Buffers;
using KcpKestrel.Transport.Kcp.Diagnostics;
using KcpKestrel.Transport.Kcp.Listener;
using KcpKestrel.Transport.Kcp.Multiplexing;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace KcpKestrel.Transport.Kcp;

// The packet path (as kcp-go's sess.go draws it). Everything below the pipes runs on one I/O loop thread.
//
//  in:  recvmmsg / Socket.ReceiveFrom → IDatagramChannel → KcpServerSocket / KcpClientSocket
//         → cipher open (PacketCipher.Open, replay window)
//         → KcpSession.OnPacket → KcpDatagramInput: FEC decode (FecDecoder, parity rebuilds lost shards)
//         → KcpControlBlock.Input (acks, reassembly; our close signal is caught first)
//         → AppInputPump: KCP Receive → connection's input pipe → Kestrel / the app
//
//  out: the app / Kestrel → connection's output pipe
//         → AppOutputPump (send window, SendRateLimiter) → KcpControlBlock.Send
//         → KcpControlBlock.FlushAt / Update (end of loop turn, or the TimerWheel) → IKcpOutput.Output
//         → KcpDatagramOutput: FEC encode (data shard + parity) → cipher seal (PacketCipher.Seal)
//         → channel send batch → sendmmsg / Socket.SendTo, at the end of the loop's turn
//
// A session (Sessions/KcpSession) closes through one state, KcpSessionLifecycle (Open → Draining → Lingering → Ended → Released).

/// <summary>
/// Kestrel's entry to the KCP transport. It binds only <see cref="KcpEndPoint"/>s, so Kestrel's
/// sockets transport keeps serving IP endpoints in the same host.
/// </summary>
public sealed class KcpConnectionListenerFactory : IConnectionListenerFactory, IConnectionListenerFactorySelector, IDisposable
{
    /// <summary>Most ports one range endpoint binds.</summary>
    internal const int MaxPortRange = 256;

    private readonly KcpTransportOptions _options;
    private readonly ILoggerFactory _loggerFactory;
    private readonly MemoryPool<byte> _pool;
    private readonly KcpListenerRegistry _registry = new();
    private readonly KcpMetrics _metrics;

    /// <summary>Creates the factory (DI does this after <c>UseKcp</c>).</summary>
    /// <param name="options">Transport options.</param>
    /// <param name="loggerFactory">Logger factory.</param>
    /// <param name="meterFactory">Creates the <c>KcpKestrel</c> meter (DI's, so OpenTelemetry and dotnet-counters see it); without one the factory owns a plain meter.</param>
    /// <param name="memoryPoolFactory">Creates the pool the connections' pipes use (Kestrel registers one, as its sockets transport uses); without one the factory uses a 4 KiB block pool of its own.</param>
    public KcpConnectionListenerFactory(IOptions<KcpTransportOptions> options, ILoggerFactory? loggerFactory = null, IMeterFactory? meterFactory = null, IMemoryPoolFactory<byte>? memoryPoolFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _pool = memoryPoolFactory?.Create(new MemoryPoolOptions { Owner = "kcp" }) ?? new BlockMemoryPool();
        _metrics = new KcpMetrics(meterFactory, _registry);
    }

    /// <summary>The listeners bound and not yet disposed (for the health check).</summary>
    internal KcpListenerRegistry Listeners => _registry;

    /// <inheritdoc />
    public bool CanBind(EndPoint endpoint) => endpoint is KcpEndPoint;

    /// <inheritdoc />
    public async ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        if (endpoint is not KcpEndPoint kcpEndPoint)
        {
            throw new NotSupportedException($"The KCP transport binds only {nameof(KcpEndPoint)}s, not {endpoint?.GetType().Name ?? "null"}.");
        }

        var options = _options.Defaults.Clone();
        kcpEndPoint.Configure?.Invoke(options);
        options.Validate();
        if (kcpEndPoint.PortCount > MaxPortRange)
        {
            throw new ArgumentException($"{kcpEndPoint} spans {kcpEndPoint.PortCount} ports; a listener binds at most {MaxPortRange} (each port has IoLoopCount loops of its own).", nameof(endpoint));
        }

        var logger = _loggerFactory.CreateLogger(KcpLog.Category);

        // Before binding, and once for every port of a range: the pads take a moment to derive.
        var qpp = QppStreams.CreatePad(options, logger);
        if (kcpEndPoint.PortCount == 1)
        {
            return BindPort(kcpEndPoint, options, qpp, logger);
        }

        // kcptun's server listens on every port of --listen IP:min-max; a port that cannot be bound fails the whole range.
        var ports = new List<IConnectionListener>(kcpEndPoint.PortCount);
        try
        {
            for (var port = kcpEndPoint.IPEndPoint.Port; port <= kcpEndPoint.MaxPort; port++)
            {
                ports.Add(BindPort(kcpEndPoint.WithPort(port), options.Clone(), qpp, logger));
            }
        }
        catch
        {
            foreach (var bound in ports)
            {
                await bound.DisposeAsync().ConfigureAwait(false);
            }

            throw;
        }

        return new KcpPortRangeListener(kcpEndPoint, [.. ports], options.AcceptQueueDepth);
    }

    private IConnectionListener BindPort(KcpEndPoint endPoint, KcpOptions options, KcpKestrel.Protocols.Qpp.QppPad? qpp, ILogger logger)
    {
        var listener = new KcpConnectionListener(endPoint, options, _pool, logger, _registry, _metrics);
        listener.Bind();
        return options switch
        {
            { Multiplexing: KcpMultiplexing.Smux } => new SmuxConnectionListener(listener, qpp),
            { Compression: KcpCompression.Snappy } => new SnappyConnectionListener(listener),
            _ => listener,
        };
    }

    /// <summary>Releases the meter when the factory created its own, and the pipes' memory pool.</summary>
    public void Dispose()
    {
        _metrics.Dispose();
        _pool.Dispose();
    }
}
