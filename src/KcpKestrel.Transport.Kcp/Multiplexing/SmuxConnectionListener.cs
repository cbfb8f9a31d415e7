using System.Collections.Concurrent;
using System.Net;
using System.Threading.Channels;
using KcpKestrel.Transport.Kcp.Connections;
using KcpKestrel.Transport.Kcp.Diagnostics;
using KcpKestrel.Transport.Kcp.Listener;
using Microsoft.AspNetCore.Connections;

namespace KcpKestrel.Transport.Kcp.Multiplexing;

/// <summary>
/// A KCP listener whose connections are smux streams (<see cref="KcpMultiplexing.Smux"/>): it takes every session
/// the KCP listener accepts, runs smux on it (<see cref="SmuxSessionHost"/>) and yields the streams of all sessions.
/// Both queues are bounded: a session's unaccepted streams by smux's AcceptBacklog, this listener's by
/// AcceptQueueDepth. The KCP listener underneath stays registered, so its counters, health and metrics go on.
/// </summary>
internal sealed class SmuxConnectionListener : IConnectionListener
{
    private readonly KcpConnectionListener _inner;
    private readonly KcpOptions _options;
    private readonly Channel<SmuxStreamConnection> _streams;
    private readonly ConcurrentDictionary<SmuxSessionHost, byte> _hosts = new();
    private readonly SmuxListenerStats _stats = new();
    private readonly Task _sessions;
    private int _disposed;

    public SmuxConnectionListener(KcpConnectionListener inner)
    {
        _inner = inner;
        _options = inner.Options;
        inner.Diagnostics.Smux = _stats;
        _streams = Channel.CreateBounded<SmuxStreamConnection>(new BoundedChannelOptions(_options.AcceptQueueDepth)
        {
            SingleReader = false,
            SingleWriter = false,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _sessions = Task.Run(AcceptSessionsAsync);
    }

    public EndPoint EndPoint => _inner.EndPoint;

    /// <summary>The smux figures (also on the meter).</summary>
    internal SmuxListenerStats Stats => _stats;

    /// <summary>The KCP listener underneath.</summary>
    internal KcpConnectionListener Inner => _inner;

    public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            var stream = await _streams.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            _stats.OnStreamAccepted();
            return stream;
        }
        catch (ChannelClosedException)
        {
            return null;
        }
    }

    /// <summary>Stops new sessions and new streams; the streams the app has keep running.</summary>
    public async ValueTask UnbindAsync(CancellationToken cancellationToken = default)
    {
        await _inner.UnbindAsync(cancellationToken).ConfigureAwait(false);
        _streams.Writer.TryComplete();
        while (_streams.Reader.TryRead(out var orphan))
        {
            // Queued but never accepted: nobody owns them, so FIN them.
            await orphan.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Closes every session (their streams fail) and then the KCP listener.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await UnbindAsync().ConfigureAwait(false);
        await _sessions.ConfigureAwait(false);
        var ended = new List<Task>(_hosts.Count);
        foreach (var host in _hosts.Keys)
        {
            ended.Add(host.DisposeAsync().AsTask());
        }

        await Task.WhenAny(Task.WhenAll(ended), Task.Delay(KcpConnectionListener.DrainTimeout)).ConfigureAwait(false);
        await _inner.DisposeAsync().ConfigureAwait(false);
    }

    private async Task AcceptSessionsAsync()
    {
        while (await _inner.AcceptAsync().ConfigureAwait(false) is KcpConnection connection)
        {
            var host = new SmuxSessionHost(connection, _options, _streams.Writer, _inner.Diagnostics);
            _hosts.TryAdd(host, 0);
            _ = host.Completion.ContinueWith(static (task, state) =>
            {
                var (hosts, ended) = ((ConcurrentDictionary<SmuxSessionHost, byte>, SmuxSessionHost))state!;
                hosts.TryRemove(ended, out _);
            }, (_hosts, host), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }
}
