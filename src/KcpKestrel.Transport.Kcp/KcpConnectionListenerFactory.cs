using System.Buffers;
using System.Net;
using KcpKestrel.Transport.Kcp.Connections;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace KcpKestrel.Transport.Kcp;

/// <summary>
/// Kestrel's entry to the KCP transport. It binds only <see cref="KcpEndPoint"/>s, so Kestrel's
/// sockets transport keeps serving IP endpoints in the same host.
/// </summary>
public sealed class KcpConnectionListenerFactory : IConnectionListenerFactory, IConnectionListenerFactorySelector
{
    private readonly KcpTransportOptions _options;
    private readonly ILoggerFactory _loggerFactory;
    private readonly MemoryPool<byte> _pool;

    /// <summary>Creates the factory (DI does this after <c>UseKcp</c>).</summary>
    /// <param name="options">Transport options.</param>
    /// <param name="loggerFactory">Logger factory.</param>
    public KcpConnectionListenerFactory(IOptions<KcpTransportOptions> options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _pool = MemoryPool<byte>.Shared;
    }

    /// <inheritdoc />
    public bool CanBind(EndPoint endpoint) => endpoint is KcpEndPoint;

    /// <inheritdoc />
    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        if (endpoint is not KcpEndPoint kcpEndPoint)
        {
            throw new NotSupportedException($"The KCP transport binds only {nameof(KcpEndPoint)}s, not {endpoint?.GetType().Name ?? "null"}.");
        }

        var options = _options.Defaults.Clone();
        kcpEndPoint.Configure?.Invoke(options);
        options.Validate();

        var listener = new KcpConnectionListener(kcpEndPoint, options, _pool, _loggerFactory.CreateLogger("KcpKestrel.Transport.Kcp"));
        listener.Bind();
        return new ValueTask<IConnectionListener>(listener);
    }
}
