using System.Net;
using KcpKestrel.Transport.Kcp.Connections;
using KcpKestrel.Transport.Kcp.Listener;
using Microsoft.AspNetCore.Connections;

namespace KcpKestrel.Transport.Kcp.Multiplexing;

/// <summary>
/// A KCP listener whose sessions are snappy-compressed whole (<see cref="KcpCompression.Snappy"/> without smux):
/// each accepted connection's Transport becomes the decompressed view of its bytes.
/// </summary>
internal sealed class SnappyConnectionListener(KcpConnectionListener inner) : IConnectionListener
{
    public EndPoint EndPoint => inner.EndPoint;

    public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default) =>
        await inner.AcceptAsync(cancellationToken).ConfigureAwait(false) is KcpConnection connection
            ? new SnappyConnection(connection)
            : null;

    public ValueTask UnbindAsync(CancellationToken cancellationToken = default) => inner.UnbindAsync(cancellationToken);

    public ValueTask DisposeAsync() => inner.DisposeAsync();
}
