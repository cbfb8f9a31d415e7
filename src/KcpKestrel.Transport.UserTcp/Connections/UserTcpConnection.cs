using KcpKestrel.Shared;
using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Runtime.CompilerServices;
using KcpKestrel.Transport.UserTcp.Io;
using KcpKestrel.Transport.UserTcp.Tcp;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;

namespace KcpKestrel.Transport.UserTcp.Connections;

/// <summary>
/// A user-space TCP connection as Kestrel sees it: two pipes over one <see cref="TcpConnection"/>, pumped on its loop.
/// Received bytes go from TCP into the input pipe until the pipe pushes back; then TCP is left unread, so its window
/// closes and the peer stops (flow control end to end). The app's output is drained into TCP as its send buffer takes
/// it; completing the output sends FIN (half-close), <see cref="Abort"/> sends RST. App threads only post work to the
/// loop (a flag set, this object queued once): no per-write allocation.
/// </summary>
internal sealed class UserTcpConnection : ConnectionContext,
    ITcpConnectionEvents,
    IUserTcpLoopWork,
    IConnectionIdFeature,
    IConnectionTransportFeature,
    IConnectionItemsFeature,
    IConnectionLifetimeFeature,
    IConnectionEndPointFeature,
    IMemoryPoolFeature
{
    private const int OutputReadable = 1;
    private const int InputFlushed = 2;
    private const int AbortRequested = 4;

    private static long s_lastId;

    private readonly UserTcpLoop _loop;
    private readonly TcpConnection _tcp;
    private readonly IUserTcpConnectionObserver _observer;
    // Never disposed: a close signal queued to the pool may still be on its way when Kestrel disposes the connection,
    // and it has no timer or wait handle to release.
    private readonly CancellationTokenSource _closedCts = new();
    private readonly FeatureCollection _features = new();
    private readonly PipeWriter _inputWriter;
    private readonly PipeReader _outputReader;
    private readonly Action _onInputFlushed;
    private readonly Action _onOutputReadable;
    private ValueTaskAwaiter<FlushResult> _inputFlush;
    private ValueTaskAwaiter<ReadResult> _outputRead;
    private IDictionary<object, object?>? _items;
    private string? _connectionId;
    private int _pending;
    private int _closedSignalled;
    private bool _inputPaused;
    private bool _inputDone;
    private bool _discardInput;
    private bool _outputWaiting;
    private bool _outputDone;
    private bool _sendBlocked;
    private bool _closed;
    private bool _drainAfterClose;
    private TcpCloseReason _closeReason;
    private long _bytesToApp;
    private long _bytesFromApp;

    public UserTcpConnection(UserTcpLoop loop, TcpConnection tcp, MemoryPool<byte> pool, UserTcpOptions options, IUserTcpConnectionObserver observer)
    {
        _loop = loop;
        _tcp = tcp;
        _observer = observer;
        MemoryPool = pool;
        LocalEndPoint = tcp.Flow.ToLocalEndPoint();
        RemoteEndPoint = tcp.Flow.ToRemoteEndPoint();

        // Input: the loop writes, the app reads; its continuations run on the thread pool, never on the loop.
        var input = new Pipe(new PipeOptions(pool, PipeScheduler.ThreadPool, PipeScheduler.Inline, options.MaxReadBufferSize, options.MaxReadBufferSize / 2, useSynchronizationContext: false));

        // Output: the app writes, the loop reads; the read's continuation only posts this connection to the loop.
        var output = new Pipe(new PipeOptions(pool, PipeScheduler.Inline, PipeScheduler.ThreadPool, options.MaxWriteBufferSize, options.MaxWriteBufferSize / 2, useSynchronizationContext: false));

        _inputWriter = input.Writer;
        _outputReader = output.Reader;
        Transport = new DuplexPipe(input.Reader, output.Writer);
        ConnectionClosed = _closedCts.Token;
        _onInputFlushed = () => Request(InputFlushed);
        _onOutputReadable = () => Request(OutputReadable);

        _features.Set<IConnectionIdFeature>(this);
        _features.Set<IConnectionTransportFeature>(this);
        _features.Set<IConnectionItemsFeature>(this);
        _features.Set<IConnectionLifetimeFeature>(this);
        _features.Set<IConnectionEndPointFeature>(this);
        _features.Set<IMemoryPoolFeature>(this);
    }

    public override IDuplexPipe Transport { get; set; }

    public override IFeatureCollection Features => _features;

    public override string ConnectionId
    {
        get => _connectionId ??= "utcp-" + Interlocked.Increment(ref s_lastId).ToString("x8", System.Globalization.CultureInfo.InvariantCulture);
        set => _connectionId = value;
    }

    public override IDictionary<object, object?> Items
    {
        get => _items ??= new ConnectionItems();
        set => _items = value;
    }

    public override CancellationToken ConnectionClosed { get; set; }

    public override EndPoint? LocalEndPoint { get; set; }

    public override EndPoint? RemoteEndPoint { get; set; }

    public MemoryPool<byte> MemoryPool { get; }

    /// <summary>The TCP connection (loop thread only).</summary>
    internal TcpConnection Tcp => _tcp;

    /// <summary>Why the connection ended, once it has (loop thread's view).</summary>
    internal TcpCloseReason? CloseReason => _closed ? _closeReason : null;

    /// <summary>The pumps' state, for diagnostics (a racy snapshot).</summary>
    internal string Describe() =>
        $"{ConnectionId} tcp={_tcp.State} receivable={_tcp.ReceivableBytes} sendable={_tcp.SendableBytes} toApp={_bytesToApp} fromApp={_bytesFromApp} pending={_pending} inputPaused={_inputPaused} inputDone={_inputDone} discard={_discardInput} outputWaiting={_outputWaiting} outputDone={_outputDone} sendBlocked={_sendBlocked} closed={_closed} loopFault={_loop.Fault?.Message}";

    /// <summary>Starts pumping: called on the loop once the connection is ESTABLISHED and owned by this object.</summary>
    internal void Start(uint now)
    {
        PumpInput(now);
        PumpOutput(now);
    }

    public override void Abort(ConnectionAbortedException abortReason) => Request(AbortRequested);

    public override ValueTask DisposeAsync()
    {
        Transport.Input.Complete();
        Transport.Output.Complete();
        return base.DisposeAsync();
    }

    // ---- loop thread ----

    public void OnEstablished(TcpConnection connection) => Start(_loop.TurnNow);

    public void OnReceivable(TcpConnection connection) => PumpInput(_loop.TurnNow);

    public void OnSendable(TcpConnection connection)
    {
        if (_sendBlocked)
        {
            _sendBlocked = false;
            PumpOutput(_loop.TurnNow);
        }
    }

    public void OnClosed(TcpConnection connection, TcpCloseReason reason)
    {
        if (_closed)
        {
            return;
        }

        _closed = true;
        _closeReason = reason;
        Exception? error = reason switch
        {
            TcpCloseReason.Closed or TcpCloseReason.Shutdown => null,
            TcpCloseReason.Aborted => new ConnectionAbortedException("The connection was aborted."),
            _ => new ConnectionResetException($"The connection ended: {reason}."),
        };

        if (!_inputDone)
        {
            if (error is null)
            {
                // A graceful close can come with the last data (both FINs, then TIME-WAIT, which keeps the received
                // bytes): the app still reads them all before its input ends.
                _drainAfterClose = true;
                PumpInput(_loop.TurnNow);
            }
            else
            {
                _inputDone = true;
                _inputWriter.Complete(error);
            }
        }

        if (!_outputDone)
        {
            _outputDone = true;
            _outputReader.Complete();
        }

        SignalClosed();
        _observer.OnConnectionClosed(this, reason, connection.GetStatistics());
    }

    public void Run(uint now)
    {
        var pending = Interlocked.Exchange(ref _pending, 0);

        // An abort first: a completion of the output posted with it must not send a FIN before the RST.
        if ((pending & AbortRequested) != 0 && !_closed)
        {
            _tcp.Abort(now);

            // The connection reports OnClosed(Aborted) itself; this covers one that already left its stack.
            OnClosed(_tcp, TcpCloseReason.Aborted);
        }

        if ((pending & InputFlushed) != 0)
        {
            var result = _inputFlush.GetResult();
            _inputPaused = false;
            if (result.IsCompleted)
            {
                // The app stopped reading: whatever still arrives is read and dropped, so the peer is not stalled.
                _discardInput = true;
            }

            PumpInput(now);
        }

        if ((pending & OutputReadable) != 0 && _outputWaiting)
        {
            _outputWaiting = false;

            // A completed reader (the connection closed meanwhile) has nothing to hand back.
            if (!_outputDone && Consume(_outputRead.GetResult(), now))
            {
                PumpOutput(now);
            }
        }

    }

    /// <summary>Moves received bytes from TCP into the input pipe until TCP has none or the pipe pushes back.</summary>
    private void PumpInput(uint now)
    {
        if (_inputPaused || (_closed && !_drainAfterClose))
        {
            return;
        }

        if (_inputDone || _discardInput)
        {
            // The app completed its input: read and drop, so TCP's window stays open for the FIN and the close.
            while (_tcp.ReceivableBytes > 0 && _tcp.Receive(_loop.Scratch, now) > 0)
            {
            }

            return;
        }

        var moved = false;
        while (_tcp.ReceivableBytes is > 0 and var available)
        {
            var span = _inputWriter.GetSpan(Math.Min(available, 4096));
            var n = _tcp.Receive(span, now);
            if (n <= 0)
            {
                break;
            }

            _inputWriter.Advance(n);
            _bytesToApp += n;
            moved = true;
        }

        if (moved)
        {
            // Kept in a field and consumed exactly once, by Run after its callback, when it does not complete now.
#pragma warning disable CA2012
            var flush = _inputWriter.FlushAsync();
#pragma warning restore CA2012
            if (!flush.IsCompleted)
            {
                // Backpressure: TCP stays unread (its window closes) until the app has read enough.
                _inputPaused = true;
                _inputFlush = flush.GetAwaiter();
                _inputFlush.UnsafeOnCompleted(_onInputFlushed);
                return;
            }

            if (flush.Result.IsCompleted)
            {
                _discardInput = true;
            }
        }

        if ((_tcp.IsReceiveComplete || (_drainAfterClose && _tcp.ReceivableBytes == 0)) && !_inputDone)
        {
            // The peer's FIN, after every byte before it: the app's read ends.
            _inputDone = true;
            _inputWriter.Complete();
            SignalClosedIfDone();
        }
    }

    /// <summary>Drains the app's output into TCP while its send buffer takes it; waits for the app or for room.</summary>
    private void PumpOutput(uint now)
    {
        while (!_outputDone && !_sendBlocked && !_outputWaiting)
        {
            if (!_outputReader.TryRead(out var result))
            {
                // As the flush above: kept and consumed once, by Run, when it does not complete now.
#pragma warning disable CA2012
                var read = _outputReader.ReadAsync();
#pragma warning restore CA2012
                if (!read.IsCompleted)
                {
                    _outputWaiting = true;
                    _outputRead = read.GetAwaiter();
                    _outputRead.UnsafeOnCompleted(_onOutputReadable);
                    return;
                }

                result = read.Result;
            }

            if (!Consume(result, now))
            {
                return;
            }
        }
    }

    /// <summary>Sends what <paramref name="result"/> holds; false when TCP took less (or the output ended).</summary>
    private bool Consume(ReadResult result, uint now)
    {
        var buffer = result.Buffer;
        long sent = 0;
        var blocked = false;
        foreach (var memory in buffer)
        {
            if (memory.Length == 0)
            {
                continue;
            }

            var n = _tcp.Send(memory.Span, now);
            sent += n;
            _bytesFromApp += n;
            if (n < memory.Length)
            {
                blocked = true;
                break;
            }
        }

        if (blocked)
        {
            // The rest waits for OnSendable; examined = consumed so the next read returns it again.
            var position = buffer.GetPosition(sent);
            _outputReader.AdvanceTo(position, position);
            _sendBlocked = true;
            return false;
        }

        _outputReader.AdvanceTo(buffer.End);
        if (result.IsCompleted)
        {
            // The app completed its output: FIN after everything queued (half-close; its input stays open).
            _outputDone = true;
            _outputReader.Complete();
            if (!_closed)
            {
                _tcp.Shutdown(now);
            }

            SignalClosedIfDone();
            return false;
        }

        return true;
    }

    private void SignalClosedIfDone()
    {
        if (_inputDone && _outputDone)
        {
            SignalClosed();
        }
    }

    private void Request(int work)
    {
        // The first request since the last run queues this connection; later ones only add their flag.
        if (Interlocked.Or(ref _pending, work) == 0)
        {
            _loop.Post(this);
        }
    }

    /// <summary>Fires <see cref="ConnectionClosed"/> once, off the loop thread so app callbacks never run on it.</summary>
    private void SignalClosed() => ConnectionClosedSignal.Fire(ref _closedSignalled, _closedCts);
}
