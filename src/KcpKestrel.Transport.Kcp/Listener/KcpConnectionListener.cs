using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using KcpKestrel.Core.Fec;
using KcpKestrel.Shared;
using KcpKestrel.Transport.Kcp.Connections;
using KcpKestrel.Transport.Kcp.Diagnostics;
using KcpKestrel.Transport.Kcp.Io.Datagrams;
using KcpKestrel.Transport.Kcp.Io.Loops;
using KcpKestrel.Transport.Kcp.Sessions;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace KcpKestrel.Transport.Kcp.Listener;

/// <summary>
/// A bound KCP endpoint: <see cref="KcpOptions.IoLoopCount"/> loops, each with its own socket on the
/// same port (SO_REUSEPORT: the kernel spreads peers across them by address hash), feeding one
/// accept queue. Unbind stops new sessions and leaves live ones running; dispose ends them.
/// </summary>
internal sealed partial class KcpConnectionListener : IConnectionListener, IKcpListenerHost, IKcpListenerState
{
    private readonly KcpOptions _options;
    private readonly ILogger _logger;
    private readonly Channel<KcpConnection> _accepts;
    private readonly List<KcpIoLoop> _loops = [];
    private readonly List<KcpServerSocket> _sockets = [];
    private readonly KcpListenerRegistry? _registry;
    private readonly ListenerReceiveMemory _memory;
    private volatile bool _accepting = true;
    private int _sessions;
    private int _disposed;

    public KcpConnectionListener(KcpEndPoint endPoint, KcpOptions options, MemoryPool<byte> pool, ILogger logger, KcpListenerRegistry? registry = null, KcpMetrics? metrics = null)
    {
        _options = options;
        _logger = logger;
        _registry = registry;
        _memory = new ListenerReceiveMemory(options.ListenerReceiveBudget);
        Diagnostics = new KcpListenerDiagnostics(metrics, logger);
        MemoryPool = pool;
        EndPoint = endPoint;
        LocalEndPoint = endPoint.IPEndPoint;
        _accepts = Channel.CreateBounded<KcpConnection>(new BoundedChannelOptions(options.AcceptQueueDepth)
        {
            SingleWriter = false,
            SingleReader = false,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    /// <summary>How long dispose waits for sessions still sending their last bytes.</summary>
    internal static TimeSpan DrainTimeout { get; } = TimeSpan.FromSeconds(5);

    public EndPoint EndPoint { get; private set; }

    public EndPoint LocalEndPoint { get; private set; }

    public MemoryPool<byte> MemoryPool { get; }

    public MigrationDirectory Migrations { get; } = new();

    public bool IsAccepting => _accepting;

    /// <summary>This endpoint's effective options (defaults plus its own settings).</summary>
    public KcpOptions Options => _options;

    /// <summary>Sessions opened and waiting for Kestrel to accept them.</summary>
    public int AcceptQueueLength => _accepts.Reader.Count;

    public KcpListenerDiagnostics Diagnostics { get; }

    public bool HasAcceptRoom => _accepts.Reader.Count < _options.AcceptQueueDepth;

    /// <summary>Sums every loop's counters (figures a moment old).</summary>
    public KcpTransportCounters Counters
    {
        get
        {
            var total = new KcpTransportCounters();
            foreach (var loop in _loops)
            {
                total.Add(loop.Counters);
            }

            total.ReceiveBytesHeld = _memory.Held;
            total.ReceiveBytesPeak = _memory.PeakReserved;
            total.ReceiveBudget = _memory.Budget;
            return total;
        }
    }

    public int SessionCount => Volatile.Read(ref _sessions);

    /// <summary>This listener's receive budget and what its sessions hold of it.</summary>
    internal ListenerReceiveMemory ReceiveMemory => _memory;

    /// <summary>How this listener's loops move datagrams, chosen at bind.</summary>
    public UdpIoMode IoMode { get; private set; }

    /// <inheritdoc/>
    public string UdpIoPath => UdpIo.NameOf(IoMode);

    public void Bind()
    {
        var requested = ((KcpEndPoint)EndPoint).IPEndPoint;
        IoMode = UdpIo.Resolve(_options.IoOverrides.Mode, out var fallback);
        if (fallback is not null)
        {
            LogUdpIoFallback(_logger, fallback);
        }

        if (!UdpIo.SupportsReusePortBalancing)
        {
            // Without a kernel spreading peers across sockets of one port, one socket and loop. The
            // options are this endpoint's own copy: the admission rate per loop and the health
            // check then see the loop count in use.
            _options.IoLoopCount = 1;
        }

        // The port must be free (Kestrel's rule: a taken port fails the start with AddressInUseException);
        // only then do the loops' sockets form their SO_REUSEPORT group on it. See ExclusiveBind for
        // how, and for the residual: a same-user process setting SO_REUSEPORT itself can still join.
        var sockets = ExclusiveBind.Bind(
            requested,
            SocketType.Dgram,
            ProtocolType.Udp,
            dualMode: true,
            () => EndPoint.ToString()!,
            port => BindSockets(new IPEndPoint(requested.Address, port)));
        var bound = (IPEndPoint)sockets[0].LocalEndPoint!;
        var (receiveBuffer, sendBuffer) = UdpSocketBuffers.Measure(sockets[0]);
        if (receiveBuffer < _options.SocketBufferSize || sendBuffer < _options.SocketBufferSize)
        {
            KcpLog.SocketBuffersCapped(_logger, "listener", bound, receiveBuffer, sendBuffer, _options.SocketBufferSize);
        }

        try
        {
            for (var i = 0; i < sockets.Count; i++)
            {
                var socket = sockets[i];
                var loop = new KcpIoLoop($"kcp-loop-{bound.Port}-{i}", DatagramSlot.SizeFor(_options.Mtu), IoMode, _options.IoOverrides)
                {
                    FecCodecs = new FecCodecCache(_options.FecDecodeCacheBudget / sockets.Count),
                };
                if (loop.FallbackReason is not null)
                {
                    // One line, and the loops still to come go straight to the fallback path.
                    LogUdpIoFallback(_logger, loop.FallbackReason);
                    IoMode = loop.Mode;
                }

                loop.ReceiveMemory = _memory.CreateLoopShare(loop);
                _loops.Add(loop);
                var channel = loop.CreateChannel(socket, null!, DatagramSlot.SizeFor(_options.Mtu), _options.IoOverrides.Gso, _options.IoOverrides.Gro);
                var server = new KcpServerSocket(loop, channel, this, _options);
                channel.Receiver = server;
                _sockets.Add(server);
                loop.Post(server);
                loop.Start();
            }
        }
        catch
        {
            foreach (var loop in _loops)
            {
                loop.Dispose();
            }

            foreach (var socket in sockets)
            {
                socket.Dispose();
            }

            throw;
        }

        LocalEndPoint = bound;
        EndPoint = new KcpEndPoint(bound) { Configure = ((KcpEndPoint)EndPoint).Configure };
        LogBound(_logger, bound, _options.IoLoopCount, UdpIoPath, _options.Crypt, _options.DataShards, _options.ParityShards);
        Diagnostics.OnBound(bound);
        _registry?.Add(this);
    }

    /// <summary>One socket per loop on <paramref name="endPoint"/>, all in one SO_REUSEPORT group (Linux).</summary>
    private List<Socket> BindSockets(IPEndPoint endPoint)
    {
        var sockets = new List<Socket>(_options.IoLoopCount);
        try
        {
            for (var i = 0; i < _options.IoLoopCount; i++)
            {
                sockets.Add(UdpSockets.Bind(endPoint, _options.SocketBufferSize));
            }

            return sockets;
        }
        catch
        {
            foreach (var socket in sockets)
            {
                socket.Dispose();
            }

            throw;
        }
    }

    public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            var connection = await _accepts.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            Diagnostics.OnAccepted(connection);
            return connection;
        }
        catch (ChannelClosedException)
        {
            return null;
        }
    }

    public ValueTask UnbindAsync(CancellationToken cancellationToken = default)
    {
        if (_accepting)
        {
            KcpLog.ListenerUnbound(_logger, LocalEndPoint, SessionCount);
        }

        _accepting = false;
        _accepts.Writer.TryComplete();

        // Sessions opened but never accepted have no owner: end them.
        while (_accepts.Reader.TryRead(out var orphan))
        {
            orphan.Abort(new ConnectionAbortedException("The KCP listener was unbound before the connection was accepted."));
        }

        return default;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await UnbindAsync().ConfigureAwait(false);

        // Kestrel disposes the listener once its connections are done, but a session whose app
        // has finished may still be sending its last bytes (a response not yet acknowledged).
        // Give those a bounded moment to finish before the sockets close under them.
        var drainUntil = Environment.TickCount64 + (long)DrainTimeout.TotalMilliseconds;
        while (Volatile.Read(ref _sessions) > 0 && Environment.TickCount64 < drainUntil)
        {
            await Task.Delay(10).ConfigureAwait(false);
        }

        var done = new List<Task>();
        for (var i = 0; i < _loops.Count; i++)
        {
            var work = new ShutdownWork(_sockets[i]);
            _loops[i].Post(work);
            done.Add(work.Completion);
        }

        await Task.WhenAny(Task.WhenAll(done), Task.Delay(TimeSpan.FromSeconds(5))).ConfigureAwait(false);
        Diagnostics.Sweep();
        var totals = Counters;
        _registry?.Remove(this);
        KcpLog.ListenerClosed(_logger, LocalEndPoint, totals.SessionsAccepted, totals.DatagramsReceived, totals.DatagramsSent, DroppedTotal(totals));
        foreach (var loop in _loops)
        {
            loop.Dispose();
        }
    }

    private static long DroppedTotal(KcpTransportCounters c) =>
        c.DroppedOversize + c.DroppedCipher + c.DroppedMalformed + c.DroppedFec + c.DroppedNoSession + c.DroppedWrongConv
        + c.DroppedTombstone + c.DroppedMaxSessions + c.DroppedAcceptQueueFull + c.DroppedRateLimited + c.DroppedUnbound
        + c.DroppedReplay + c.DroppedHandover + c.DatagramsDroppedOnSend;

    public bool TryReserveSession()
    {
        if (Interlocked.Increment(ref _sessions) > _options.MaxSessions)
        {
            Interlocked.Decrement(ref _sessions);
            return false;
        }

        return true;
    }

    public void ReleaseSession()
    {
        Interlocked.Decrement(ref _sessions);
        Diagnostics.OnSessionReleased();
    }

    public bool TryEnqueueAccept(KcpConnection connection) => _accepting && _accepts.Writer.TryWrite(connection);

    [LoggerMessage(2, LogLevel.Warning, "KCP UDP I/O: {Reason}.")]
    private static partial void LogUdpIoFallback(ILogger logger, string reason);

    [LoggerMessage(1, LogLevel.Information, "KCP listening on {EndPoint} with {Loops} I/O loops ({UdpIo} UDP I/O, crypt {Crypt}, FEC {DataShards}/{ParityShards}).")]
    private static partial void LogBound(ILogger logger, IPEndPoint endPoint, int loops, string udpIo, string crypt, int dataShards, int parityShards);

    private sealed class ShutdownWork(KcpServerSocket socket) : ILoopWorkItem
    {
        private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Completion => _done.Task;

        public void Execute(KcpIoLoop loop, uint now)
        {
            try
            {
                socket.Shutdown();
            }
            finally
            {
                _done.TrySetResult();
            }
        }
    }
}
