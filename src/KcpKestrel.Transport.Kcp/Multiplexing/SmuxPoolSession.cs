using KcpKestrel.Protocols.Snappy;
using KcpKestrel.Smux;
using Microsoft.AspNetCore.Connections;

namespace KcpKestrel.Transport.Kcp.Multiplexing;

/// <summary>
/// One session of a <see cref="SmuxSessionPool"/>: the KCP connection, snappy when configured, and the client smux
/// session over them, closed together. Its expiry (kcptun <c>--autoexpire</c>) is fixed when the dial completes.
/// </summary>
internal sealed class SmuxPoolSession : IAsyncDisposable
{
    private readonly IAsyncDisposable? _compression;
    private ITimer? _scavenge;
    private int _disposed;

    /// <param name="smux">The client smux session.</param>
    /// <param name="compression">The layer between smux and the connection (snappy), closed after smux.</param>
    /// <param name="connection">The KCP connection under it all, closed last; its features show through every stream.</param>
    public SmuxPoolSession(SmuxSession smux, IAsyncDisposable? compression, ConnectionContext connection)
    {
        Smux = smux;
        _compression = compression;
        Connection = connection;
    }

    public SmuxSession Smux { get; }

    public ConnectionContext Connection { get; }

    /// <summary>Timestamp (of the pool's TimeProvider) after which the session takes no new streams; long.MaxValue: never.</summary>
    public long ExpiresAt { get; private set; } = long.MaxValue;

    /// <summary>The smux session closed (by us, the peer, a keepalive timeout or its transport).</summary>
    public bool IsClosed => Smux.CloseReason is not null;

    /// <summary>Stacks snappy (when <paramref name="options"/> asks for it) and a client smux session on a dialed KCP connection.</summary>
    public static SmuxPoolSession Create(ConnectionContext connection, KcpOptions options)
    {
        var transport = connection.Transport;
        SnappyDuplexPipe? snappy = null;
        if (options.Compression == KcpCompression.Snappy)
        {
            snappy = new SnappyDuplexPipe(transport);
            transport = snappy;
        }

        return new SmuxPoolSession(new SmuxSession(transport, isClient: true, options.ToSmuxOptions()), snappy, connection);
    }

    /// <summary>
    /// Starts the session's clock: new streams until <paramref name="autoExpire"/> from now, and closed outright
    /// <paramref name="scavengeTtl"/> after that whatever streams it still carries, as kcptun's scavenger does.
    /// </summary>
    public void StartExpiry(TimeProvider time, TimeSpan autoExpire, TimeSpan scavengeTtl)
    {
        if (autoExpire <= TimeSpan.Zero)
        {
            return;
        }

        ExpiresAt = time.GetTimestamp() + (long)(autoExpire.TotalSeconds * time.TimestampFrequency);
        _scavenge = time.CreateTimer(
            static state => _ = ((SmuxPoolSession)state!).DisposeAsync().AsTask(),
            this,
            autoExpire + scavengeTtl,
            Timeout.InfiniteTimeSpan);
    }

    /// <summary>Closes smux (every stream with it), then the compression layer, then the KCP connection.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _scavenge?.Dispose();
        await Smux.DisposeAsync().ConfigureAwait(false);
        if (_compression is not null)
        {
            await _compression.DisposeAsync().ConfigureAwait(false);
        }

        await Connection.DisposeAsync().ConfigureAwait(false);
    }
}
