using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using KcpKestrel.Shared;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Logging;

namespace KcpKestrel.Transport.Tcp;

/// <summary>
/// N listening sockets in one SO_REUSEPORT group, each drained by its own accept loop; accepted sockets become
/// Kestrel's own socket connections and are queued for <see cref="AcceptAsync"/>.
/// </summary>
internal sealed class TunedTcpConnectionListener : IConnectionListener
{
    private const int FirstBackoffMs = 5;
    private const int MaxBackoffMs = 1000;

    private static readonly Action<object?> ReleaseSlot = static state => ((TunedTcpConnectionListener)state!).Release();

    private readonly IPEndPoint _requested;
    private readonly TunedTcpOptions _options;
    private readonly ILogger _logger;
    private readonly Action<TunedTcpConnectionListener>? _onDisposed;
    private readonly SocketConnectionContextFactory _contextFactory;
    private readonly Channel<ConnectionContext> _accepted;
    private readonly CancellationTokenSource _stopping = new();
    private TunedTcpAcceptLoop[] _loops = [];
    private Task _loopsDone = Task.CompletedTask;
    private long _rejectedOverLimit;
    private long _acceptErrors;
    private int _active;
    private int _unbound;
    private int _disposed;
    private bool _noDelayPerAccept;

    internal TunedTcpConnectionListener(
        IPEndPoint endPoint,
        TunedTcpOptions options,
        ILogger logger,
        Action<TunedTcpConnectionListener>? onDisposed = null,
        IMemoryPoolFactory<byte>? memoryPoolFactory = null)
    {
        _requested = endPoint;
        _options = options;
        _logger = logger;
        _onDisposed = onDisposed;
        EndPoint = endPoint;
        _contextFactory = new SocketConnectionContextFactory(SocketConnectionOptions.Create(memoryPoolFactory, out var pooled), logger);
        if (memoryPoolFactory is not null && !pooled)
        {
            TunedTcpLog.KestrelMemoryPoolUnavailable(logger, endPoint);
        }

        CreateConnection = _contextFactory.Create;
        _accepted = Channel.CreateBounded<ConnectionContext>(new BoundedChannelOptions(options.Backlog)
        {
            SingleReader = true,
            SingleWriter = options.AcceptLoops == 1,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    public EndPoint EndPoint { get; private set; }

    internal TunedTcpOptions Options => _options;

    /// <summary>Turns an accepted socket into Kestrel's socket connection (a seam: tests make it fail).</summary>
    internal Func<Socket, ConnectionContext> CreateConnection { get; set; }

    internal int LoopCount => _loops.Length;

    internal Socket ListeningSocket(int loop) => _loops[loop].Socket;

    internal long Accepted
    {
        get
        {
            long sum = 0;
            foreach (var loop in _loops)
            {
                sum += loop.Accepted;
            }

            return sum;
        }
    }

    internal long RejectedOverLimit => Interlocked.Read(ref _rejectedOverLimit);

    internal long AcceptErrors => Interlocked.Read(ref _acceptErrors);

    internal int ActiveConnections => Volatile.Read(ref _active);

    internal long[] GetAcceptedPerLoop()
    {
        var counts = new long[_loops.Length];
        for (var i = 0; i < counts.Length; i++)
        {
            counts[i] = _loops[i].Accepted;
        }

        return counts;
    }

    /// <summary>Binds the SO_REUSEPORT group (the io_uring engine's sockets too) and sets <see cref="EndPoint"/>.</summary>
    internal List<Socket> BindListeningSockets()
    {
        if (_options.FastOpenQueueLength > 0 && OperatingSystem.IsLinux())
        {
            if (!TcpFastOpenSysctl.ServerEnabled(out var sysctl))
            {
                TunedTcpLog.FastOpenSysctlMissing(_logger, _requested, sysctl);
            }
        }

        // The port must be free (Kestrel's rule: a taken port fails the start with AddressInUseException);
        // only then do the loops' sockets form their SO_REUSEPORT group on it. See ExclusiveBind for
        // how, and for the residual: a same-user process setting SO_REUSEPORT itself can still join.
        var sockets = ExclusiveBind.Bind(
            _requested,
            SocketType.Stream,
            ProtocolType.Tcp,
            _options.DualMode,
            () => _requested.ToString(),
            BindSockets);
        var port = ((IPEndPoint)sockets[0].LocalEndPoint!).Port;
        EndPoint = new TunedTcpEndPoint(_requested.Address, port) { Options = (_requested as TunedTcpEndPoint)?.Options };
        return sockets;
    }

    internal void Bind()
    {
        var sockets = BindListeningSockets();
        var loops = new TunedTcpAcceptLoop[sockets.Count];
        var tasks = new Task[loops.Length];
        for (var i = 0; i < loops.Length; i++)
        {
            loops[i] = new TunedTcpAcceptLoop(i, sockets[i]);
        }

        _loops = loops;
        for (var i = 0; i < loops.Length && loops.Length > 1; i++)
        {
            var loop = loops[i];
            loop.Task = Task.Run(() => RunAcceptLoopAsync(loop));
            tasks[i] = loop.Task;
        }

        _loopsDone = loops.Length > 1 ? Task.WhenAll(tasks) : Task.CompletedTask;
        TunedTcpLog.Listening(_logger, EndPoint, loops.Length);
    }

    /// <summary>The accept loops' listening sockets on <paramref name="port"/>, one SO_REUSEPORT group when there are several.</summary>
    private List<Socket> BindSockets(int port)
    {
        var wanted = _options.AcceptLoops;
        var sockets = new List<Socket>(wanted);
        try
        {
            var endPoint = new IPEndPoint(_requested.Address, port);
            sockets.Add(CreateListenSocket(endPoint, wanted > 1, logWarnings: true, out var reusePortError));
            if (wanted > 1 && reusePortError != SocketError.Success)
            {
                TunedTcpLog.ReusePortUnavailable(_logger, _requested, reusePortError);
                wanted = 1;
            }

            for (var i = 1; i < wanted; i++)
            {
                sockets.Add(CreateListenSocket(endPoint, reusePort: true, logWarnings: false, out _));
            }

            return sockets;
        }
        catch
        {
            DisposeAll(sockets);
            throw;
        }
    }

    public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
    {
        if (_loops.Length == 1)
        {
            // One socket: accept on Kestrel's own accept call, saving the hand-off through the queue.
            return await AcceptOneAsync(_loops[0]).ConfigureAwait(false);
        }

        var reader = _accepted.Reader;
        while (true)
        {
            if (reader.TryRead(out var connection))
            {
                return connection;
            }

            if (!await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                return null;
            }
        }
    }

    public async ValueTask UnbindAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _unbound, 1) == 0)
        {
            // Closing the listening sockets stops new connections at once; connections already queued for
            // Kestrel are still handed over (the channel completes only after the loops end).
            await _stopping.CancelAsync().ConfigureAwait(false);
            foreach (var loop in _loops)
            {
                loop.Socket.Dispose();
            }
        }

        // The loops end promptly once their sockets are closed, so the token is not needed to bound this wait;
        // Kestrel passes an already-cancelled one when a host is disposed after it stopped.
        await _loopsDone.ConfigureAwait(false);
        _accepted.Writer.TryComplete();
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await UnbindAsync().ConfigureAwait(false);
        while (_accepted.Reader.TryRead(out var orphan))
        {
            orphan.Abort(new ConnectionAbortedException("The tuned TCP listener was disposed."));
            await orphan.DisposeAsync().ConfigureAwait(false);
        }

        _contextFactory.Dispose();
        _stopping.Dispose();
        _onDisposed?.Invoke(this);
    }

    private async Task RunAcceptLoopAsync(TunedTcpAcceptLoop loop)
    {
        try
        {
            await AcceptUntilStoppedAsync(loop).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            TunedTcpLog.AcceptLoopFailed(_logger, EndPoint, loop.Index, e);
        }
    }

    private async Task AcceptUntilStoppedAsync(TunedTcpAcceptLoop loop)
    {
        var writer = _accepted.Writer;
        var stopping = _stopping.Token;
        while (await AcceptOneAsync(loop).ConfigureAwait(false) is { } connection)
        {
            if (writer.TryWrite(connection))
            {
                continue;
            }

            try
            {
                await writer.WriteAsync(connection, stopping).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ChannelClosedException)
            {
                connection.Abort(new ConnectionAbortedException("The tuned TCP listener is stopping."));
                await connection.DisposeAsync().ConfigureAwait(false);
                return;
            }
        }
    }

    /// <summary>Accepts until one connection is admitted and set up; null once the listener stops.</summary>
    private async ValueTask<ConnectionContext?> AcceptOneAsync(TunedTcpAcceptLoop loop)
    {
        var stopping = _stopping.Token;
        var backoffMs = 0;
        while (!stopping.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await loop.Socket.AcceptAsync(CancellationToken.None).ConfigureAwait(false);
            }
            catch (ObjectDisposedException)
            {
                return null;
            }
            catch (SocketException) when (stopping.IsCancellationRequested)
            {
                return null;
            }
            catch (SocketException e)
            {
                Interlocked.Increment(ref _acceptErrors);
                if (!IsResourceExhaustion(e.SocketErrorCode))
                {
                    // A peer that reset before accept: nothing to wait for.
                    TunedTcpLog.AcceptFailed(_logger, EndPoint, loop.Index, e.SocketErrorCode);
                    continue;
                }

                // Out of descriptors or buffers: retrying at once would spin; back off until one accept succeeds.
                backoffMs = backoffMs == 0 ? FirstBackoffMs : Math.Min(backoffMs * 2, MaxBackoffMs);
                TunedTcpLog.AcceptBackoff(_logger, EndPoint, loop.Index, e.SocketErrorCode, backoffMs);
                try
                {
                    await Task.Delay(backoffMs, stopping).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return null;
                }

                continue;
            }

            backoffMs = 0;
            if (!TryTakeSlot())
            {
                Interlocked.Increment(ref _rejectedOverLimit);
                TunedTcpLog.RejectedOverLimit(_logger, EndPoint, _options.MaxConnections);
                // Abortive close (RST): no TIME_WAIT and no buffers spent on a connection we will not serve.
                socket.Close(0);
                continue;
            }

            loop.CountAccepted();
            ConnectionContext connection;
            try
            {
                if (_noDelayPerAccept)
                {
                    socket.NoDelay = true;
                }

                connection = CreateConnection(socket);
            }
            catch (SocketException e)
            {
                // The peer reset between accept and setup.
                Interlocked.Increment(ref _acceptErrors);
                TunedTcpLog.AcceptFailed(_logger, EndPoint, loop.Index, e.SocketErrorCode);
                socket.Dispose();
                Release();
                continue;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // Setting up this one connection failed (any other error): close it, free its slot and keep
                // accepting. Letting it escape would end the loop for good, its socket and slot leaked.
                Interlocked.Increment(ref _acceptErrors);
                TunedTcpLog.ConnectionSetupFailed(_logger, EndPoint, loop.Index, e);
                socket.Dispose();
                Release();
                continue;
            }

            connection.ConnectionClosed.UnsafeRegister(ReleaseSlot, this);
            return connection;
        }

        return null;
    }

    private bool TryTakeSlot()
    {
        var active = Interlocked.Increment(ref _active);
        if (_options.MaxConnections == 0 || active <= _options.MaxConnections)
        {
            return true;
        }

        Interlocked.Decrement(ref _active);
        return false;
    }

    private void Release() => Interlocked.Decrement(ref _active);

    private static bool IsResourceExhaustion(SocketError error) =>
        error is SocketError.TooManyOpenSockets or SocketError.NoBufferSpaceAvailable;

    private Socket CreateListenSocket(IPEndPoint endPoint, bool reusePort, bool logWarnings, out SocketError reusePortError)
    {
        reusePortError = SocketError.Success;
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (endPoint.AddressFamily == AddressFamily.InterNetworkV6)
            {
                socket.DualMode = _options.DualMode;
            }

            if (reusePort)
            {
                // Must precede bind: every socket of the group sets it, then the kernel hashes each new
                // connection's 4-tuple to one of them.
                reusePortError = OperatingSystem.IsLinux()
                    ? TcpSocketOptionNames.TrySetInt(socket, TcpSocketOptionNames.SolSocket, TcpSocketOptionNames.SoReusePort, 1)
                    : SocketError.OperationNotSupported;
            }

            // Buffer sizes go on the listening socket before listen so accepted sockets inherit them and the
            // window scale offered in the SYN-ACK matches the receive buffer.
            if (_options.ReceiveBufferSize > 0)
            {
                SetSocketOption(socket, SocketOptionLevel.Socket, SocketOptionName.ReceiveBuffer, _options.ReceiveBufferSize, "SO_RCVBUF", logWarnings);
            }

            if (_options.SendBufferSize > 0)
            {
                SetSocketOption(socket, SocketOptionLevel.Socket, SocketOptionName.SendBuffer, _options.SendBufferSize, "SO_SNDBUF", logWarnings);
            }

            if (_options.KeepAliveIdleSeconds > 0)
            {
                // Accepted sockets inherit keep-alive settings from the listener, saving four syscalls per accept.
                SetSocketOption(socket, SocketOptionLevel.Socket, SocketOptionName.KeepAlive, 1, "SO_KEEPALIVE", logWarnings);
                SetSocketOption(socket, SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime, _options.KeepAliveIdleSeconds, "TCP_KEEPIDLE", logWarnings);
                SetSocketOption(socket, SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveInterval, _options.KeepAliveIntervalSeconds, "TCP_KEEPINTVL", logWarnings);
                SetSocketOption(socket, SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveRetryCount, _options.KeepAliveProbeCount, "TCP_KEEPCNT", logWarnings);
            }

            if (_options.NoDelay)
            {
                // Linux copies TCP_NODELAY from the listening socket into each accepted one: set once here it saves
                // a setsockopt per connection (Kestrel's sockets transport sets it on every accept). Elsewhere, or
                // if the kernel refuses it here, each accepted socket sets it.
                _noDelayPerAccept |= !OperatingSystem.IsLinux()
                    || TcpSocketOptionNames.TrySetInt(socket, TcpSocketOptionNames.IpProtoTcp, TcpSocketOptionNames.TcpNoDelay, 1) != SocketError.Success;
            }

            socket.Bind(endPoint);

            if (_options.FastOpenQueueLength > 0)
            {
                SetLinuxTcpOption(socket, TcpSocketOptionNames.TcpFastOpen, _options.FastOpenQueueLength, "TCP_FASTOPEN", logWarnings);
            }

            if (_options.DeferAcceptSeconds > 0)
            {
                SetLinuxTcpOption(socket, TcpSocketOptionNames.TcpDeferAccept, _options.DeferAcceptSeconds, "TCP_DEFER_ACCEPT", logWarnings);
            }

            socket.Listen(_options.Backlog);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private void SetSocketOption(Socket socket, SocketOptionLevel level, SocketOptionName name, int value, string optionName, bool logWarnings)
    {
        try
        {
            socket.SetSocketOption(level, name, value);
        }
        catch (SocketException e)
        {
            if (logWarnings)
            {
                TunedTcpLog.OptionRefused(_logger, _requested, optionName, value, e.SocketErrorCode);
            }
        }
    }

    private void SetLinuxTcpOption(Socket socket, int name, int value, string optionName, bool logWarnings)
    {
        if (!OperatingSystem.IsLinux())
        {
            if (logWarnings)
            {
                TunedTcpLog.OptionUnsupported(_logger, _requested, optionName);
            }

            return;
        }

        var error = TcpSocketOptionNames.TrySetInt(socket, TcpSocketOptionNames.IpProtoTcp, name, value);
        if (error != SocketError.Success && logWarnings)
        {
            TunedTcpLog.OptionRefused(_logger, _requested, optionName, value, error);
        }
    }

    private static void DisposeAll(List<Socket> sockets)
    {
        foreach (var socket in sockets)
        {
            socket.Dispose();
        }
    }
}
