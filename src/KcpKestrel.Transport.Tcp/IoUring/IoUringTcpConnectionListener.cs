using System.Buffers;
using System.Net;
using System.Threading.Channels;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace KcpKestrel.Transport.Tcp.IoUring;

/// <summary>
/// The io_uring engine, socket-sharding architecture: the tuned listener's SO_REUSEPORT group (same
/// exclusive-bind probe and socket options), one <see cref="IoUringTcpWorker"/> per socket, and the
/// connections they accept queued for <see cref="AcceptAsync"/>.
/// </summary>
internal sealed class IoUringTcpConnectionListener : IConnectionListener
{
    private readonly IPEndPoint _requested;
    private readonly TunedTcpOptions _options;
    private readonly ILogger _logger;
    private readonly Action<IoUringTcpConnectionListener>? _onDisposed;
    private readonly IMemoryPoolFactory<byte>? _memoryPoolFactory;
    private readonly Channel<ConnectionContext> _accepted = Channel.CreateUnbounded<ConnectionContext>(new UnboundedChannelOptions { SingleReader = true });
    private IoUringTcpWorker[] _workers = [];
    private long _rejectedOverLimit;
    private long _acceptErrors;
    private int _active;
    private int _disposed;

    internal IoUringTcpConnectionListener(IPEndPoint endPoint, TunedTcpOptions options, ILogger logger, Action<IoUringTcpConnectionListener>? onDisposed = null, IMemoryPoolFactory<byte>? memoryPoolFactory = null)
    {
        _memoryPoolFactory = memoryPoolFactory;
        _requested = endPoint;
        _options = options;
        _logger = logger;
        _onDisposed = onDisposed;
        EndPoint = endPoint;
    }

    public EndPoint EndPoint { get; private set; }

    /// <summary>Provided buffers per worker (a power of two); tests shrink it to provoke ENOBUFS.</summary>
    internal ushort BufferCount { get; init; } = 256;

    /// <summary>Bytes per provided buffer.</summary>
    internal int BufferSize { get; init; } = 16 * 1024;

    /// <summary>
    /// Runs the app's input continuations on the worker thread (as Kestrel's UnsafePreferInlineScheduling does for
    /// its sockets): no hop to the thread pool per read, but an app that blocks stalls every connection of that
    /// worker. Experimental: <c>KCPKESTREL_TCP_URING_INLINE=1</c>.
    /// </summary>
    internal bool InlineApplication { get; init; } = Environment.GetEnvironmentVariable("KCPKESTREL_TCP_URING_INLINE") == "1";

    internal IReadOnlyList<IoUringTcpWorker> Workers => _workers;

    /// <summary>
    /// The connections' pipe memory: Kestrel's pinned-block pool when DI has one, so a send pins nothing (a plain
    /// array from the shared pool takes a GCHandle per segment per send).
    /// </summary>
    internal MemoryPool<byte> MemoryPool { get; private set; } = MemoryPool<byte>.Shared;

    /// <summary><see cref="TunedTcpOptions.ZeroCopySendThreshold"/>, or 0 where the kernel lacks SEND_ZC and SENDMSG_ZC.</summary>
    internal int ZeroCopySendThreshold => _options.ZeroCopySendThreshold > 0 && IoUringTcpSupport.ZeroCopySend ? _options.ZeroCopySendThreshold : 0;

    internal long Accepted => _workers.Sum(w => w.Accepted);

    internal long NoBuffers => _workers.Sum(w => w.NoBuffers);

    internal long ZeroCopySends => _workers.Sum(w => w.ZeroCopySends);

    internal long RejectedOverLimit => Interlocked.Read(ref _rejectedOverLimit);

    internal long AcceptErrors => Interlocked.Read(ref _acceptErrors);

    internal int ActiveConnections => Volatile.Read(ref _active);

    /// <summary>Binds the group and starts one worker per socket; throws <see cref="KcpKestrel.IoUring.IoUringUnavailableException"/> when a ring cannot be made.</summary>
    internal void Bind()
    {
        var binder = new TunedTcpConnectionListener(_requested, _options, _logger);
        var sockets = binder.BindListeningSockets();
        EndPoint = binder.EndPoint;
        binder.DisposeAsync().AsTask().GetAwaiter().GetResult();
        MemoryPool = _memoryPoolFactory?.Create() ?? MemoryPool<byte>.Shared;

        var workers = new IoUringTcpWorker[sockets.Count];
        for (var i = 0; i < workers.Length; i++)
        {
            workers[i] = new IoUringTcpWorker(this, i, sockets[i], BufferCount, BufferSize, _options.NoDelay, InlineApplication);
        }

        foreach (var worker in workers)
        {
            worker.Start();
        }

        try
        {
            Task.WhenAll(workers.Select(w => w.Started)).GetAwaiter().GetResult();
        }
        catch
        {
            foreach (var worker in workers)
            {
                worker.RequestStop();
            }

            Task.WhenAll(workers.Select(w => w.Stopped)).GetAwaiter().GetResult();
            DisposeMemoryPool();
            throw;
        }

        _workers = workers;
        IoUringTcpLog.Listening(_logger, EndPoint, workers.Length);
    }

    public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
    {
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
        foreach (var worker in _workers)
        {
            worker.RequestUnbind();
        }

        // Each worker cancels its accept and closes its socket promptly: the token is not needed to bound this.
        await Task.WhenAll(_workers.Select(w => w.Unbound)).ConfigureAwait(false);
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

        // Kestrel has drained (or aborted past its shutdown timeout) the connections it took; the workers
        // abort any left, wait for their last completions, then close their rings.
        foreach (var worker in _workers)
        {
            worker.RequestStop();
        }

        await Task.WhenAll(_workers.Select(w => w.Stopped)).ConfigureAwait(false);
        DisposeMemoryPool();
        _onDisposed?.Invoke(this);
    }

    private void DisposeMemoryPool()
    {
        if (MemoryPool != MemoryPool<byte>.Shared)
        {
            MemoryPool.Dispose();
        }
    }

    internal void Enqueue(IoUringTcpConnection connection)
    {
        if (!_accepted.Writer.TryWrite(connection))
        {
            connection.Abort(new ConnectionAbortedException("The tuned TCP listener is stopping."));
        }
    }

    internal bool TryTakeSlot()
    {
        var active = Interlocked.Increment(ref _active);
        if (_options.MaxConnections == 0 || active <= _options.MaxConnections)
        {
            return true;
        }

        Interlocked.Decrement(ref _active);
        Interlocked.Increment(ref _rejectedOverLimit);
        return false;
    }

    internal void Release() => Interlocked.Decrement(ref _active);

    internal void CountAcceptError() => Interlocked.Increment(ref _acceptErrors);

    internal void AcceptBackoff(int worker, int errno, int delayMs) => IoUringTcpLog.AcceptBackoff(_logger, EndPoint, worker, errno, delayMs);

    internal void WorkerFailed(int worker, Exception exception) => IoUringTcpLog.WorkerFailed(_logger, EndPoint, worker, exception);
}
