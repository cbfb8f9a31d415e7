using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Threading.Channels;
using KcpKestrel.Protocols.Qpp;
using KcpKestrel.Protocols.Snappy;
using KcpKestrel.Smux;
using KcpKestrel.Transport.Kcp.Connections;
using KcpKestrel.Transport.Kcp.Diagnostics;
using Microsoft.AspNetCore.Connections;

namespace KcpKestrel.Transport.Kcp.Multiplexing;

/// <summary>
/// Runs the server side of smux over one accepted KCP session, as kcptun's server does: snappy (when on) directly
/// over the KCP bytes, smux over that, and every stream the peer opens queued for the listener as a connection.
/// The session and smux end together: smux failing (protocol error, keepalive timeout) aborts the KCP session,
/// and the KCP session ending closes smux, which fails every stream still open.
/// </summary>
internal sealed class SmuxSessionHost : IAsyncDisposable
{
    private readonly KcpConnection _connection;
    private readonly SnappyDuplexPipe? _snappy;
    private readonly SmuxSession _session;
    private readonly ChannelWriter<SmuxStreamConnection> _sink;
    private readonly KcpListenerDiagnostics _diagnostics;
    private readonly QppPad? _qpp;
    private readonly ConcurrentDictionary<SmuxStreamConnection, byte> _streams = new();
    private readonly Action<SmuxStreamConnection> _onStreamDisposed;
    private long _streamsAccepted;

    public SmuxSessionHost(KcpConnection connection, KcpOptions options, ChannelWriter<SmuxStreamConnection> sink, KcpListenerDiagnostics diagnostics, QppPad? qpp = null)
    {
        _connection = connection;
        _qpp = qpp;
        _sink = sink;
        _diagnostics = diagnostics;
        _onStreamDisposed = stream => _streams.TryRemove(stream, out _);
        IDuplexPipe transport = connection.Transport;
        if (options.Compression == KcpCompression.Snappy)
        {
            _snappy = new SnappyDuplexPipe(transport);
            transport = _snappy;
        }

        _session = new SmuxSession(transport, isClient: false, options.ToSmuxOptions());
        diagnostics.Smux?.OnSessionStarted(_session);
        Completion = RunAsync();
    }

    /// <summary>Completes once smux has ended and the KCP session is released.</summary>
    public Task Completion { get; }

    /// <summary>How long dispose lets smux send the FINs of streams the app has finished before it closes smux.</summary>
    internal static TimeSpan FinFlushTimeout { get; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Lets smux send the FINs of the streams the app has finished (bounded by <see cref="FinFlushTimeout"/>), closes
    /// smux (streams still open fail), then the KCP session gracefully, and waits for both.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        // Kestrel disposes the listener once its connections are done, so the app's streams have completed their
        // output and their FINs wait in smux's write queue; a closed session sends nothing more, and the peer's
        // streams would fail ("session closed") instead of reading end-of-stream. A stream leaves smux's table once
        // its FIN is out (and its input closed).
        var until = Environment.TickCount64 + (long)FinFlushTimeout.TotalMilliseconds;
        while (_session.StreamCount > 0 && !_session.Completion.IsCompleted && Environment.TickCount64 < until)
        {
            await Task.Delay(5).ConfigureAwait(false);
        }

        await _session.DisposeAsync().ConfigureAwait(false);
        await Completion.ConfigureAwait(false);
    }

    private async Task RunAsync()
    {
        await AcceptStreamsAsync().ConfigureAwait(false);
        await _session.Completion.ConfigureAwait(false);

        var reason = SmuxListenerStats.ReasonName(_session.CloseReason);
        if (reason is "protocol_error" or "keepalive_timeout")
        {
            // The peer broke smux or went silent: the KCP session under it is of no further use.
            _connection.Abort(new ConnectionAbortedException($"smux session ended: {_session.CloseReason}"));
        }

        foreach (var stream in _streams.Keys)
        {
            stream.SignalClosed();
        }

        if (_snappy is not null)
        {
            await _snappy.DisposeAsync().ConfigureAwait(false);
        }

        _diagnostics.OnSmuxSessionEnded(_session, _connection.Conv, _connection.RemoteEndPoint, Interlocked.Read(ref _streamsAccepted));
        await _connection.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Moves accepted streams to the listener's queue, waiting while it is full (smux's backlog then refuses SYNs past its limit).</summary>
    private async Task AcceptStreamsAsync()
    {
        var open = true;
        while (true)
        {
            SmuxStream stream;
            try
            {
                stream = await _session.AcceptStreamAsync().ConfigureAwait(false);
            }
            catch (IOException)
            {
                return;
            }

            var connection = new SmuxStreamConnection(stream, _session, _connection, _qpp) { Disposed = _onStreamDisposed };
            if (open)
            {
                _streams.TryAdd(connection, 0);
                try
                {
                    await _sink.WriteAsync(connection).ConfigureAwait(false);
                    Interlocked.Increment(ref _streamsAccepted);
                    continue;
                }
                catch (ChannelClosedException)
                {
                    // The listener was unbound: no new streams, but the session's live streams go on.
                    open = false;
                }
            }

            // Refused: FIN at once, so the peer's open fails fast instead of hanging.
            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }
}
