using System.Buffers;
using System.Net;
using System.Threading.Channels;
using KcpKestrel.Transport.UserTcp.Connections;
using KcpKestrel.Transport.UserTcp.Diagnostics;
using KcpKestrel.Transport.UserTcp.Io;
using KcpKestrel.Transport.UserTcp.Tcp;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace KcpKestrel.Transport.UserTcp.Listener;

/// <summary>
/// A bound user-space TCP endpoint: the runtime (device and loops), a listening port on every loop's stack, and one
/// accept queue Kestrel reads. A full queue refuses the connection (the stack resets it). Unbind stops listening and
/// leaves live connections; dispose aborts them and closes the device.
/// </summary>
internal sealed partial class UserTcpConnectionListener : IConnectionListener, IUserTcpConnectionObserver
{
    private readonly UserTcpOptions _options;
    private readonly MemoryPool<byte> _pool;
    private readonly UserTcpMetrics _metrics;
    private readonly ILogger _logger;
    private readonly Channel<UserTcpConnection> _accepts;
    private UserTcpRuntime? _runtime;
    private int _active;
    private int _disposed;

    public UserTcpConnectionListener(UserTcpEndPoint endPoint, UserTcpOptions options, MemoryPool<byte> pool, UserTcpMetrics metrics, ILogger logger)
    {
        EndPoint = endPoint;
        _options = options;
        _pool = pool;
        _metrics = metrics;
        _logger = logger;
        _accepts = Channel.CreateBounded<UserTcpConnection>(new BoundedChannelOptions(options.AcceptQueueDepth)
        {
            SingleReader = false,
            SingleWriter = false,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    public EndPoint EndPoint { get; }

    /// <summary>The runtime, once bound (its loops' counters feed the metrics and the CLI's report).</summary>
    public UserTcpRuntime? Runtime => _runtime;

    /// <summary>Connections handed to Kestrel (or queued for it) and not yet ended.</summary>
    public int ActiveConnections => Volatile.Read(ref _active);

    /// <summary>Opens the device, starts the loops and listens on every loop's stack.</summary>
    public async Task BindAsync()
    {
        var endPoint = (UserTcpEndPoint)EndPoint;
        _runtime = UserTcpRuntime.Start(endPoint, _options);
        try
        {
            var local = new IPEndPoint(endPoint.Address, endPoint.Port);
            await _runtime.ForEachLoopAsync((stack, _) => stack.Stack.Listen(local, new UserTcpAcceptor(this, stack))).ConfigureAwait(false);
        }
        catch
        {
            _runtime.Dispose();
            _runtime = null;
            throw;
        }

        _metrics.Add(_runtime);
        LogBound(_logger, endPoint, _runtime.Loops.Count);
    }

    /// <summary>Wraps and queues an established connection; null when the accept queue is full. Loop thread.</summary>
    internal UserTcpConnection? TryQueue(UserTcpLoop loop, TcpConnection tcp)
    {
        var connection = new UserTcpConnection(loop, tcp, _pool, _options, this);
        tcp.Events = connection;
        if (!_accepts.Writer.TryWrite(connection))
        {
            tcp.Events = null;
            return null;
        }

        Interlocked.Increment(ref _active);
        _metrics.OnOpened();
        return connection;
    }

    public void OnConnectionClosed(UserTcpConnection connection, TcpCloseReason reason, TcpConnectionStatistics statistics)
    {
        Interlocked.Decrement(ref _active);
        _metrics.OnClosed(reason, statistics);
    }

    public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            return await _accepts.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            return null;
        }
    }

    public async ValueTask UnbindAsync(CancellationToken cancellationToken = default)
    {
        if (!_accepts.Writer.TryComplete())
        {
            return;
        }

        if (_runtime is { } runtime)
        {
            var local = new IPEndPoint(((UserTcpEndPoint)EndPoint).Address, ((UserTcpEndPoint)EndPoint).Port);
            try
            {
                await runtime.ForEachLoopAsync((stack, _) => stack.Stack.StopListening(local)).WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (ObjectDisposedException)
            {
                // The loops already stopped.
            }
        }

        // Connections established but never accepted have no owner: end them.
        while (_accepts.Reader.TryRead(out var orphan))
        {
            orphan.Abort(new ConnectionAbortedException("The user-space TCP listener was unbound before the connection was accepted."));
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await UnbindAsync().ConfigureAwait(false);
        if (_runtime is { } runtime)
        {
            runtime.Dispose();
            LogStopped(_logger, (UserTcpEndPoint)EndPoint, ActiveConnections);
        }
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "User-space TCP listening on {EndPoint} with {Loops} loop(s)")]
    private static partial void LogBound(ILogger logger, UserTcpEndPoint endPoint, int loops);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "User-space TCP on {EndPoint} stopped; {Connections} connection(s) were still open and are reset")]
    private static partial void LogStopped(ILogger logger, UserTcpEndPoint endPoint, int connections);
}
