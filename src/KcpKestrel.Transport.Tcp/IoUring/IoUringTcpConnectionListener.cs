using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using KcpKestrel.IoUring;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace KcpKestrel.Transport.Tcp.IoUring;

/// <summary>
/// The io_uring engine: the tuned listener's sockets (same exclusive-bind probe and socket options) and
/// <see cref="IoUringTcpWorker"/>s, the connections they serve queued for <see cref="AcceptAsync"/>. Socket
/// sharding: one SO_REUSEPORT socket per worker, each accepting on its own. Reactor: one socket and an
/// <see cref="IoUringTcpAcceptor"/> passing connections to socket-less workers.
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
    private IReadOnlyList<Socket> _listeningSockets = [];
    private IoUringTcpAcceptor? _acceptor;
    private long _rejectedOverLimit;
    private long _acceptErrors;
    private long _sqFullSubmits;
    private long _cqOverflowFlushes;
    private long _buffersOutAtRelease;
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

    /// <summary>Each worker's ring and buffer sizes; tests shrink them to provoke the queues' and the buffers' limits.</summary>
    internal IoUringTcpTuning Tuning { get; init; } = IoUringTcpTuning.Default;

    /// <summary>
    /// Runs the app's input continuations on the worker thread (as Kestrel's UnsafePreferInlineScheduling does for
    /// its sockets): no hop to the thread pool per read, but an app that blocks stalls every connection of that
    /// worker. Experimental: <c>KCPKESTREL_TCP_URING_INLINE=1</c>.
    /// </summary>
    internal bool InlineApplication { get; init; } = Environment.GetEnvironmentVariable("KCPKESTREL_TCP_URING_INLINE") == "1";

    /// <summary>Whether the kernel has IORING_OP_MSG_RING, which the reactor needs (a seam: tests simulate an older kernel).</summary>
    internal bool MsgRingSupported { get; init; } = IoUringProbe.Shared.Supports(IoUringOp.MsgRing);

    internal IReadOnlyList<IoUringTcpWorker> Workers => _workers;

    /// <summary>The workers' listening sockets (each worker closes its own when unbinding).</summary>
    internal IReadOnlyList<Socket> ListeningSockets => _listeningSockets;

    /// <summary>The architecture running (after any fallback); set by <see cref="Bind"/>.</summary>
    internal IoUringArchitecture Architecture { get; private set; }

    /// <summary>Whether the reuseport CBPF program steers connections by CPU.</summary>
    internal bool Steered { get; private set; }

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

    /// <summary>Over the stopped workers: times a full submission queue was submitted mid-batch.</summary>
    internal long SqFullSubmits => Interlocked.Read(ref _sqFullSubmits);

    /// <summary>Over the stopped workers: times completions held back by a full completion queue were flushed in.</summary>
    internal long CqOverflowFlushes => Interlocked.Read(ref _cqOverflowFlushes);

    /// <summary>Over the stopped workers: provided buffers still out (filled, never handed back) when each released its ring.</summary>
    internal long BuffersOutAtRelease => Interlocked.Read(ref _buffersOutAtRelease);

    /// <summary>Binds the socket(s) and starts the workers (and the acceptor); throws <see cref="IoUringUnavailableException"/> when a ring cannot be made.</summary>
    internal void Bind()
    {
        Architecture = _options.Architecture;
        if (Architecture == IoUringArchitecture.Reactor && !MsgRingSupported)
        {
            IoUringTcpLog.ReactorUnavailable(_logger, _requested);
            Architecture = IoUringArchitecture.SocketSharding;
        }

        var reactor = Architecture == IoUringArchitecture.Reactor;
        var bindOptions = _options;
        if (reactor)
        {
            bindOptions = _options.Clone();
            bindOptions.AcceptLoops = 1;
        }

        var binder = new TunedTcpConnectionListener(_requested, bindOptions, _logger);
        var sockets = binder.BindListeningSockets();
        EndPoint = binder.EndPoint;
        binder.DisposeAsync().AsTask().GetAwaiter().GetResult();
        MemoryPool = _memoryPoolFactory?.Create() ?? MemoryPool<byte>.Shared;

        var count = reactor ? _options.AcceptLoops : sockets.Count;
        int[] cpus = _options.CpuAffinity ? IoUringTcpAffinity.AllowedCpus() : [];
        if (!reactor && cpus.Length > 0 && count > 1)
        {
            var error = ReuseportCbpf.Attach(sockets[0], count);
            Steered = error == 0;
            if (!Steered)
            {
                IoUringTcpLog.SteeringRefused(_logger, EndPoint, error);
            }
        }

        var ring = Tuning.RingOptions(_options.SqPoll, _options.SqPollIdleMilliseconds);
        var workers = new IoUringTcpWorker[count];
        for (var i = 0; i < workers.Length; i++)
        {
            workers[i] = new IoUringTcpWorker(this, i, reactor ? null : sockets[i], Tuning, _options.NoDelay, InlineApplication)
            {
                RingOptions = ring,
                Cpu = IoUringTcpAffinity.CpuForWorker(i, count, cpus, Steered),
            };
        }

        var acceptor = reactor ? new IoUringTcpAcceptor(this, sockets[0], workers, ring with { CompletionEntries = 0 }) : null;
        try
        {
            Start(workers.Select(w => ((Action)w.Start, w.Started)));
            if (acceptor is not null)
            {
                Start([(acceptor.Start, acceptor.Started)]);
            }
        }
        catch
        {
            foreach (var worker in workers)
            {
                worker.RequestStop();
            }

            Task.WhenAll(workers.Select(w => w.Stopped)).GetAwaiter().GetResult();
            if (reactor)
            {
                // The acceptor's, if it never started (it closes it itself when it did; a second close is a no-op).
                sockets[0].Dispose();
            }

            DisposeMemoryPool();
            throw;
        }

        _workers = workers;
        _listeningSockets = sockets;
        _acceptor = acceptor;
        IoUringTcpLog.Listening(_logger, EndPoint, Architecture, workers.Length, _options.SqPoll, _options.CpuAffinity, Steered);
    }

    private static void Start(IEnumerable<(Action Start, Task Started)> threads)
    {
        var started = new List<Task>();
        foreach (var (start, done) in threads)
        {
            start();
            started.Add(done);
        }

        Task.WhenAll(started).GetAwaiter().GetResult();
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
        _acceptor?.RequestUnbind();
        foreach (var worker in _workers)
        {
            worker.RequestUnbind();
        }

        // Each worker (or the acceptor) cancels its accept and closes its socket promptly: the token is not needed to bound this.
        await Task.WhenAll(_workers.Select(w => w.Unbound).Append(_acceptor?.Unbound ?? Task.CompletedTask)).ConfigureAwait(false);
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

        // No connection may be between two rings when the workers stop: the acceptor ends after its last MSG_RING.
        if (_acceptor is not null)
        {
            await _acceptor.Stopped.ConfigureAwait(false);
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

    /// <summary>A worker's thread, as it releases its ring: keeps the ring's and the buffers' figures past its end.</summary>
    internal void OnWorkerReleased(IoUringRing? ring, ProvidedBufferRing? buffers)
    {
        Interlocked.Add(ref _sqFullSubmits, ring?.SqFullSubmits ?? 0);
        Interlocked.Add(ref _cqOverflowFlushes, ring?.CqOverflowFlushes ?? 0);
        Interlocked.Add(ref _buffersOutAtRelease, buffers?.Out ?? 0);
    }

    internal void PinFailed(int worker, int cpu, int errno) => IoUringTcpLog.PinFailed(_logger, EndPoint, worker, cpu, errno);

    internal void WorkerFailed(int worker, Exception exception) => IoUringTcpLog.WorkerFailed(_logger, EndPoint, worker, exception);
}
