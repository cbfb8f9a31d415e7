using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Runtime.InteropServices;
using KcpKestrel.Native;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;

namespace KcpKestrel.Transport.Tcp.IoUring;

/// <summary>
/// One accepted socket as Kestrel sees it: two pipes and the usual features. Everything below the
/// pipes (the fd, what is armed in the ring, the send in flight) belongs to the owning
/// <see cref="IoUringTcpWorker"/> and is touched only on its thread; other threads post to it.
/// </summary>
internal sealed class IoUringTcpConnection : ConnectionContext,
    IConnectionIdFeature,
    IConnectionTransportFeature,
    IConnectionItemsFeature,
    IConnectionLifetimeFeature,
    IConnectionEndPointFeature,
    IMemoryPoolFeature
{
    /// <summary>Segments per vectored send: 64 of Kestrel's 4 KiB blocks, 256 KiB a SENDMSG.</summary>
    internal const int MaxSendSegments = 64;
    private const long MaxBuffered = 1024 * 1024;
    private static long s_lastId;

    private readonly IoUringTcpWorker _worker;
    private readonly CancellationTokenSource _closedCts = new();
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly FeatureCollection _features = new();
    private IDictionary<object, object?>? _items;
    private string? _connectionId;
    private int _abortPosted;
    private int _closedSignalled;

    public IoUringTcpConnection(IoUringTcpWorker worker, int fd, int slot, EndPoint? localEndPoint, EndPoint? remoteEndPoint, bool inlineApplication)
    {
        _worker = worker;
        ZeroCopySendThreshold = worker.ZeroCopySendThreshold;
        Fd = fd;
        Slot = slot;
        LocalEndPoint = localEndPoint;
        RemoteEndPoint = remoteEndPoint;

        // Input: the worker writes, the app reads (its continuations off the worker unless inline scheduling
        // was asked for, as Kestrel's UnsafePreferInlineScheduling); the worker's flush continuation only posts
        // back to the worker, so it runs inline. Output: the mirror image.
        var appScheduler = inlineApplication ? PipeScheduler.Inline : PipeScheduler.ThreadPool;
        var input = new Pipe(new PipeOptions(MemoryPool, appScheduler, PipeScheduler.Inline, MaxBuffered, MaxBuffered / 2, useSynchronizationContext: false));
        var output = new Pipe(new PipeOptions(MemoryPool, PipeScheduler.Inline, PipeScheduler.ThreadPool, MaxBuffered, MaxBuffered / 2, useSynchronizationContext: false));
        Transport = new Duplex(input.Reader, output.Writer);
        InputWriter = input.Writer;
        OutputReader = output.Reader;
        OnFlushed = () => _worker.Post(this, IoUringTcpWork.InputFlushed);
        OnReadable = () => _worker.Post(this, IoUringTcpWork.OutputReadable);
        ConnectionClosed = _closedCts.Token;

        unsafe
        {
            Header = (MsgHdr*)NativeMemory.AllocZeroed((nuint)(sizeof(MsgHdr) + (MaxSendSegments * sizeof(IoVec))));
            Header->Iov = (IoVec*)(Header + 1);
        }

        _features.Set<IConnectionIdFeature>(this);
        _features.Set<IConnectionTransportFeature>(this);
        _features.Set<IConnectionItemsFeature>(this);
        _features.Set<IConnectionLifetimeFeature>(this);
        _features.Set<IConnectionEndPointFeature>(this);
        _features.Set<IMemoryPoolFeature>(this);
    }

    // ---- worker-owned state ----
    internal int Fd { get; }

    internal int Slot { get; }

    internal PipeWriter InputWriter { get; }

    internal PipeReader OutputReader { get; }

    /// <summary>Posted when a paused input flush completes (the app read enough): cached, so pausing allocates nothing.</summary>
    internal Action OnFlushed { get; }

    /// <summary>Posted when the app wrote output: cached for the same reason.</summary>
    internal Action OnReadable { get; }

    internal unsafe MsgHdr* Header { get; private set; }

    internal MemoryHandle[] SendHandles { get; } = new MemoryHandle[MaxSendSegments];

    internal int SendHandleCount { get; set; }

    /// <summary>Sends of at least this many bytes go out zero-copy; 0: none.</summary>
    internal int ZeroCopySendThreshold { get; }

    /// <summary>The send in flight is zero-copy: its pages stay pinned until the kernel's notification.</summary>
    internal bool ZeroCopyInFlight { get; set; }

    /// <summary>A zero-copy send's result, kept until its notification arrives.</summary>
    internal int ZeroCopyResult { get; set; }

    internal ValueTask<FlushResult> PendingFlush { get; set; }

    internal ValueTask<ReadResult> PendingRead { get; set; }

    internal ReadOnlySequence<byte> Sending { get; set; }

    internal bool RecvArmed { get; set; }

    internal bool FlushPending { get; set; }

    internal bool Unflushed { get; set; }

    internal bool ReadPending { get; set; }

    internal bool SendInFlight { get; set; }

    internal bool InputDone { get; set; }

    internal bool OutputDone { get; set; }

    internal bool Finished { get; set; }

    internal Exception? AbortReason { get; private set; }

    internal bool Aborted => AbortReason is not null;

    internal bool Idle => InputDone && OutputDone && !RecvArmed && !SendInFlight;

    // ---- ConnectionContext ----
    public override IDuplexPipe Transport { get; set; }

    public override IFeatureCollection Features => _features;

    public override string ConnectionId
    {
        get => _connectionId ??= "uring-" + Interlocked.Increment(ref s_lastId).ToString("x8", System.Globalization.CultureInfo.InvariantCulture);
        set => _connectionId = value;
    }

    public override IDictionary<object, object?> Items
    {
        get => _items ??= new Dictionary<object, object?>();
        set => _items = value;
    }

    public override CancellationToken ConnectionClosed { get; set; }

    public override EndPoint? LocalEndPoint { get; set; }

    public override EndPoint? RemoteEndPoint { get; set; }

    /// <summary>The listener's pool (Kestrel's pinned blocks when it has them): what the pipes take their memory from.</summary>
    public MemoryPool<byte> MemoryPool => _worker.MemoryPool;

    public override void Abort(ConnectionAbortedException abortReason)
    {
        if (Interlocked.Exchange(ref _abortPosted, 1) == 0)
        {
            AbortReason = abortReason;
            _worker.Post(this, IoUringTcpWork.Abort);
        }
    }

    public override async ValueTask DisposeAsync()
    {
        // The app is done with both pipes; the worker sees the output end, shuts the socket and closes it.
        await Transport.Input.CompleteAsync().ConfigureAwait(false);
        await Transport.Output.CompleteAsync().ConfigureAwait(false);
        // The token source is not disposed: a late ConnectionClosed signal may still be queued.
        await _closed.Task.ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Worker thread: no more input; the app's reads end with <paramref name="error"/> (null for a FIN).</summary>
    internal void CompleteInput(Exception? error)
    {
        if (!InputDone)
        {
            InputDone = true;
            InputWriter.Complete(error);
            SignalClosed();
        }
    }

    /// <summary>
    /// Worker thread: the receive side ended (FIN, reset, abort), which is when Kestrel's socket transport fires
    /// <see cref="ConnectionClosed"/>; fired off the worker, since its callbacks are user code.
    /// </summary>
    internal void SignalClosed()
    {
        if (Interlocked.Exchange(ref _closedSignalled, 1) == 0)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static c => c._closedCts.Cancel(), this, preferLocal: false);
        }
    }

    /// <summary>Worker thread: the socket is closed and nothing is left in the ring.</summary>
    internal unsafe void OnFinished()
    {
        Finished = true;
        NativeMemory.Free(Header);
        Header = null;
        ThreadPool.UnsafeQueueUserWorkItem(
            static c =>
            {
                if (Interlocked.Exchange(ref c._closedSignalled, 1) == 0)
                {
                    c._closedCts.Cancel();
                }

                c._closed.TrySetResult();
            },
            this,
            preferLocal: false);
    }

    private sealed class Duplex(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
