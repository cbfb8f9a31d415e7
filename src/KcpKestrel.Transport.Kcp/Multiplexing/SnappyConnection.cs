using System.IO.Pipelines;
using System.Net;
using KcpKestrel.Protocols.Snappy;
using KcpKestrel.Transport.Kcp.Connections;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;

namespace KcpKestrel.Transport.Kcp.Multiplexing;

/// <summary>
/// A KCP connection compressed whole with snappy (kcptun's framing): the app reads and writes plain bytes through
/// <see cref="Transport"/>; everything else is the KCP connection's. Disposing lets the compressor send its last
/// frames before the KCP session closes.
/// </summary>
internal sealed class SnappyConnection : ConnectionContext
{
    private readonly KcpConnection _inner;
    private readonly IDuplexPipe _raw;
    private readonly SnappyDuplexPipe _snappy;

    public SnappyConnection(KcpConnection inner)
    {
        _inner = inner;
        _raw = inner.Transport;
        _snappy = new SnappyDuplexPipe(_raw);

        // Through the KCP connection, so its IConnectionTransportFeature shows the same pipe.
        inner.Transport = _snappy;
    }

    public override IDuplexPipe Transport
    {
        get => _inner.Transport;
        set => _inner.Transport = value;
    }

    public override IFeatureCollection Features => _inner.Features;

    public override string ConnectionId
    {
        get => _inner.ConnectionId;
        set => _inner.ConnectionId = value;
    }

    public override IDictionary<object, object?> Items
    {
        get => _inner.Items;
        set => _inner.Items = value;
    }

    public override CancellationToken ConnectionClosed
    {
        get => _inner.ConnectionClosed;
        set => _inner.ConnectionClosed = value;
    }

    public override EndPoint? LocalEndPoint
    {
        get => _inner.LocalEndPoint;
        set => _inner.LocalEndPoint = value;
    }

    public override EndPoint? RemoteEndPoint
    {
        get => _inner.RemoteEndPoint;
        set => _inner.RemoteEndPoint = value;
    }

    public override void Abort(ConnectionAbortedException abortReason) => _inner.Abort(abortReason);

    public override async ValueTask DisposeAsync()
    {
        // Completes the app's sides, then waits until the compressor has flushed into KCP and finished.
        await _snappy.DisposeAsync().ConfigureAwait(false);
        _inner.Transport = _raw;
        await _inner.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }
}
