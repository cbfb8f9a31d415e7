using KcpKestrel.Shared;
using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Net;
using KcpKestrel.Protocols.Qpp;
using KcpKestrel.Smux;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;

namespace KcpKestrel.Transport.Kcp.Multiplexing;

/// <summary>
/// One smux stream as a Kestrel connection, on either side: the server's listener hands out the streams a peer
/// opens, the client's factory the streams it opens. Transport is the stream itself (no copy); endpoints, memory
/// pool and <see cref="IKcpSessionFeature"/> are the KCP session's, shared by every stream on it. Closing, disposing
/// or aborting ends only this stream (FIN); the session lives on. With QPP (<see cref="KcpOptions.Qpp"/>) Transport is
/// the stream behind a <see cref="QppDuplexPipe"/>, as kcptun wraps each stream it opens or accepts.
/// </summary>
internal sealed class SmuxStreamConnection : ConnectionContext,
    IConnectionIdFeature,
    IConnectionTransportFeature,
    IConnectionItemsFeature,
    IConnectionLifetimeFeature,
    IConnectionEndPointFeature,
    IMemoryPoolFeature,
    IKcpStreamFeature
{
    private readonly SmuxStream _stream;
    private readonly SmuxSession _session;
    private readonly ConnectionContext _sessionConnection;
    private readonly AbortableStreamReader _input;
    private readonly AbortableStreamWriter _output;
    private readonly QppDuplexPipe? _qpp;
    private readonly CancellationTokenSource _closedCts = new();
    private readonly CancellationTokenRegistration _sessionClosed;
    private readonly FeatureCollection _features = new();
    private IDictionary<object, object?>? _items;
    private string? _connectionId;
    private int _closedSignalled;
    private int _disposed;

    /// <summary>Wraps <paramref name="stream"/> of <paramref name="session"/>, which runs over <paramref name="sessionConnection"/> (the KCP session's connection).</summary>
    /// <param name="stream">The smux stream.</param>
    /// <param name="session">Its session.</param>
    /// <param name="sessionConnection">The KCP session's connection under the session.</param>
    /// <param name="qpp">The pads when QPP is on: the stream's bytes are then encrypted with them.</param>
    public SmuxStreamConnection(SmuxStream stream, SmuxSession session, ConnectionContext sessionConnection, QppPad? qpp = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(sessionConnection);
        _stream = stream;
        _session = session;
        _sessionConnection = sessionConnection;
        _input = new AbortableStreamReader(stream.Input);
        _output = new AbortableStreamWriter(stream.Output);
        IDuplexPipe transport = new DuplexPipe(_input, _output);
        if (qpp is not null)
        {
            // Aborts still reach the app: the pipe's pumps read the abortable reader, and fail with its reason.
            _qpp = new QppDuplexPipe(transport, qpp);
            transport = _qpp;
        }

        Transport = transport;
        LocalEndPoint = sessionConnection.LocalEndPoint;
        RemoteEndPoint = sessionConnection.RemoteEndPoint;
        MemoryPool = sessionConnection.Features.Get<IMemoryPoolFeature>()?.MemoryPool ?? MemoryPool<byte>.Shared;
        ConnectionClosed = _closedCts.Token;

        _features.Set<IConnectionIdFeature>(this);
        _features.Set<IConnectionTransportFeature>(this);
        _features.Set<IConnectionItemsFeature>(this);
        _features.Set<IConnectionLifetimeFeature>(this);
        _features.Set<IConnectionEndPointFeature>(this);
        _features.Set<IMemoryPoolFeature>(this);
        _features.Set<IKcpStreamFeature>(this);
        if (sessionConnection.Features.Get<IKcpSessionFeature>() is { } kcpSession)
        {
            // The session's own feature object: every stream reads the same Conv, figures and rate limit.
            _features.Set(kcpSession);
        }

        // The session ending ends every stream on it. (A token already cancelled runs this now.)
        _sessionClosed = sessionConnection.ConnectionClosed.UnsafeRegister(static state => ((SmuxStreamConnection)state!).SignalClosed(), this);
    }

    public override IDuplexPipe Transport { get; set; }

    public override IFeatureCollection Features => _features;

    /// <summary>The session connection's id and the stream id, so logs group a session's streams.</summary>
    public override string ConnectionId
    {
        get => _connectionId ??= _sessionConnection.ConnectionId + "/" + _stream.Id.ToString(CultureInfo.InvariantCulture);
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

    public uint StreamId => _stream.Id;

    public int SessionStreamCount => _session.StreamCount;

    /// <summary>Called once when the connection is disposed (the server's session host stops tracking it).</summary>
    internal Action<SmuxStreamConnection>? Disposed { get; init; }

    /// <summary>The smux stream under this connection.</summary>
    internal SmuxStream Stream => _stream;

    /// <summary>Ends this stream only: pending and later reads fail with <paramref name="abortReason"/>, writes stop, FIN follows.</summary>
    public override void Abort(ConnectionAbortedException abortReason)
    {
        _input.Abort(abortReason);
        _output.Abort();
        SignalClosed();
    }

    /// <summary>Sends FIN (after what was written) and drops what the peer still sends; the session lives on.</summary>
    public override async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        if (_qpp is not null)
        {
            // Its pumps read and write the stream: they stop (completing both sides) before the stream is completed here.
            await _qpp.DisposeAsync().ConfigureAwait(false);
        }

        _input.Complete();
        _output.Complete();
        await _sessionClosed.DisposeAsync().ConfigureAwait(false);
        SignalClosed();
        Disposed?.Invoke(this);
        await base.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Fires <see cref="ConnectionClosed"/> once, off the caller's thread (app callbacks must not run in a session loop).</summary>
    internal void SignalClosed()
    {
        if (Interlocked.Exchange(ref _closedSignalled, 1) == 0)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static cts => cts.Cancel(), _closedCts, preferLocal: false);
        }
    }
}
