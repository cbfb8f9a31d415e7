using KcpKestrel.Shared;
using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;

namespace KcpKestrel.Transport.Kcp.Connections;

/// <summary>
/// A KCP session as Kestrel sees a connection: two pipes (the loop writes what KCP receives into
/// <see cref="Transport"/>'s input and drains its output into KCP) and the usual features.
/// </summary>
internal sealed class KcpConnection : ConnectionContext,
    IConnectionIdFeature,
    IConnectionTransportFeature,
    IConnectionItemsFeature,
    IConnectionLifetimeFeature,
    IConnectionEndPointFeature,
    IMemoryPoolFeature,
    IKcpSessionFeature
{
    private static long s_lastId;

    private readonly IKcpConnectionSession _session;
    private readonly CancellationTokenSource _closedCts = new();
    private readonly FeatureCollection _features = new();
    private IDictionary<object, object?>? _items;
    private string? _connectionId;
    private int _closedSignalled;

    public KcpConnection(IKcpConnectionSession session, EndPoint localEndPoint, EndPoint remoteEndPoint, MemoryPool<byte> pool, KcpOptions options)
    {
        _session = session;
        LocalEndPoint = localEndPoint;
        RemoteEndPoint = remoteEndPoint;
        MemoryPool = pool;

        // The app's continuations (its reads of the input, its flushes of the output that waited) run on the
        // thread pool, so app code never runs on the loop; unless the app asked to run inline on the loop
        // (UnsafePreferInlineScheduling), which saves the hop to the pool and back on every message.
        var appScheduler = options.UnsafePreferInlineScheduling ? PipeScheduler.Inline : PipeScheduler.ThreadPool;

        // Input: the loop writes, the app reads.
        var input = CreatePipe(pool, readerScheduler: appScheduler, writerScheduler: PipeScheduler.Inline, options.MaxReadBufferSize);

        // Output: the app writes, the loop reads; the read continuation only posts to the loop.
        var output = CreatePipe(pool, readerScheduler: PipeScheduler.Inline, writerScheduler: appScheduler, options.MaxWriteBufferSize);

        InputReader = new ConsumptionCountingReader(input.Reader);
        Transport = new DuplexPipe(InputReader, output.Writer);
        Application = new DuplexPipe(output.Reader, input.Writer);
        ConnectionClosed = _closedCts.Token;

        _features.Set<IConnectionIdFeature>(this);
        _features.Set<IConnectionTransportFeature>(this);
        _features.Set<IConnectionItemsFeature>(this);
        _features.Set<IConnectionLifetimeFeature>(this);
        _features.Set<IConnectionEndPointFeature>(this);
        _features.Set<IMemoryPoolFeature>(this);
        _features.Set<IKcpSessionFeature>(this);
    }

    private static Pipe CreatePipe(MemoryPool<byte> pool, PipeScheduler readerScheduler, PipeScheduler writerScheduler, long maxBuffered) =>
        new(new PipeOptions(
            pool,
            readerScheduler,
            writerScheduler,
            pauseWriterThreshold: maxBuffered,
            resumeWriterThreshold: maxBuffered / 2,
            useSynchronizationContext: false));

    /// <summary>The app's end of the input pipe, counting what it consumed (for the session's receive budget).</summary>
    public ConsumptionCountingReader InputReader { get; }

    /// <summary>The loop's side of the pipes: reads what the app wrote, writes what arrived.</summary>
    public IDuplexPipe Application { get; }

    public override IDuplexPipe Transport { get; set; }

    public override IFeatureCollection Features => _features;

    public override string ConnectionId
    {
        get => _connectionId ??= "kcp-" + Interlocked.Increment(ref s_lastId).ToString("x8", System.Globalization.CultureInfo.InvariantCulture);
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

    public uint Conv => _session.Conv;

    public KcpCloseReason CloseReason => _session.CloseReason;

    public long SendRateLimit
    {
        get => _session.SendRateLimit;
        set => _session.SendRateLimit = value;
    }

    public KcpSessionStatistics GetStatistics() => _session.GetStatistics();

    public override void Abort(ConnectionAbortedException abortReason) => _session.RequestAbort(abortReason);

    public override ValueTask DisposeAsync()
    {
        Transport.Input.Complete();
        Transport.Output.Complete();
        _session.RequestDispose();
        _closedCts.Dispose();
        return base.DisposeAsync();
    }

    /// <summary>Fires <see cref="ConnectionClosed"/> once, off the loop thread so app callbacks never run on it.</summary>
    internal void SignalClosed() => ConnectionClosedSignal.Fire(ref _closedSignalled, _closedCts);
}
