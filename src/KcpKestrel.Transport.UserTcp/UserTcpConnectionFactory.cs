using System.Buffers;
using System.Diagnostics.Metrics;
using System.Net;
using KcpKestrel.Transport.UserTcp.Client;
using KcpKestrel.Transport.UserTcp.Connections;
using KcpKestrel.Transport.UserTcp.Diagnostics;
using KcpKestrel.Transport.UserTcp.Io;
using KcpKestrel.Transport.UserTcp.Tcp;
using Microsoft.AspNetCore.Connections;

namespace KcpKestrel.Transport.UserTcp;

/// <summary>
/// Opens TCP connections from the user-space stack to a server the kernel reaches (a kernel listener, or another
/// stack), as <see cref="ConnectionContext"/>s. It runs its own device and loops, from the endpoint given: its
/// address is the connections' source, its port is not used (each connection gets an ephemeral port).
/// </summary>
public sealed class UserTcpConnectionFactory : IConnectionFactory, IAsyncDisposable, IUserTcpConnectionObserver
{
    private readonly UserTcpRuntime _runtime;
    private readonly UserTcpOptions _options;
    private readonly UserTcpMetrics _metrics;
    private readonly MemoryPool<byte> _pool = MemoryPool<byte>.Shared;
    private int _nextLoop;
    private int _disposed;

    /// <summary>Creates the device (or opens the endpoint's packet source) and starts the loops.</summary>
    /// <param name="localEndPoint">The device and the stack's address the connections leave from.</param>
    /// <param name="options">Settings; null for the defaults. The endpoint's own settings apply over them.</param>
    /// <param name="meterFactory">Creates the <c>KcpKestrel.UserTcp</c> meter; without one the factory owns a plain meter.</param>
    public UserTcpConnectionFactory(UserTcpEndPoint localEndPoint, UserTcpOptions? options = null, IMeterFactory? meterFactory = null)
    {
        ArgumentNullException.ThrowIfNull(localEndPoint);
        _options = options?.Clone() ?? new UserTcpOptions();
        localEndPoint.Configure?.Invoke(_options);
        _options.Validate();
        LocalEndPoint = localEndPoint;
        _metrics = new UserTcpMetrics(meterFactory);
        _runtime = UserTcpRuntime.Start(localEndPoint, _options);
        _metrics.Add(_runtime);
    }

    /// <summary>The device and address the connections leave from.</summary>
    public UserTcpEndPoint LocalEndPoint { get; }

    /// <summary>The runtime (its loops' counters).</summary>
    internal UserTcpRuntime Runtime => _runtime;

    /// <summary>Opens a connection to <paramref name="endpoint"/> (an <see cref="IPEndPoint"/> of the endpoint's family).</summary>
    /// <param name="endpoint">The server's address and port.</param>
    /// <param name="cancellationToken">Cancels the open (the half-open connection is reset).</param>
    /// <returns>The connection, once ESTABLISHED.</returns>
    /// <exception cref="System.Net.Sockets.SocketException">The server answered RST (<see cref="System.Net.Sockets.SocketError.ConnectionRefused"/>).</exception>
    /// <exception cref="TimeoutException">The SYN retries ran out.</exception>
    public async ValueTask<ConnectionContext> ConnectAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (endpoint is not IPEndPoint remote || remote.AddressFamily != LocalEndPoint.AddressFamily)
        {
            throw new ArgumentException($"The user-space TCP client connects to an IPEndPoint of {LocalEndPoint.AddressFamily}, not {endpoint}.", nameof(endpoint));
        }

        // Round robin over the loops: a multiqueue TUN device steers a flow's packets to the queue that last wrote it.
        var stack = _runtime.Loops[(int)((uint)Interlocked.Increment(ref _nextLoop) % (uint)_runtime.Loops.Count)];
        var pending = new PendingConnect(this, stack);
        var local = new IPEndPoint(LocalEndPoint.Address, 0);
        await stack.Loop.InvokeAsync(now =>
        {
            pending.Tcp = stack.Stack.Connect(local, remote, pending, now);
            return true;
        }).ConfigureAwait(false);

        using var registration = cancellationToken.Register(static state =>
        {
            var (loop, work) = ((UserTcpLoop, PendingConnect))state!;
            loop.Post(work);
        }, (stack.Loop, pending));
        return await pending.Task.ConfigureAwait(false);
    }

    /// <summary>The transport connection over an established <paramref name="tcp"/> (loop thread).</summary>
    internal UserTcpConnection Wrap(UserTcpLoopStack stack, TcpConnection tcp)
    {
        _metrics.OnOpened();
        return new UserTcpConnection(stack.Loop, tcp, _pool, _options, this);
    }

    void IUserTcpConnectionObserver.OnConnectionClosed(UserTcpConnection connection, TcpCloseReason reason, TcpConnectionStatistics statistics) =>
        _metrics.OnClosed(reason, statistics);

    /// <summary>Resets every connection still open, stops the loops and closes the device.</summary>
    /// <returns>A completed task.</returns>
    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _runtime.Dispose();
            _metrics.Dispose();
        }

        return default;
    }
}
