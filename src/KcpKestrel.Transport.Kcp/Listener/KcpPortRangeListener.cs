using System.Net;
using System.Threading.Channels;
using Microsoft.AspNetCore.Connections;

namespace KcpKestrel.Transport.Kcp.Listener;

/// <summary>
/// A <see cref="KcpEndPoint"/> over a port range, as kcptun's server serves <c>--listen IP:minport-maxport</c>: one
/// listener per port (each with its own loops, sessions and counters, registered like any other), whose connections
/// come out of this one listener for Kestrel. The hand-off queue is bounded (AcceptQueueDepth); while it is full the
/// ports' own accept queues fill and then count their drops, as a single port's does.
/// </summary>
internal sealed class KcpPortRangeListener : IConnectionListener
{
    private readonly IConnectionListener[] _ports;
    private readonly Channel<ConnectionContext> _accepted;
    private readonly Task _pumps;
    private int _disposed;

    /// <param name="endPoint">The range, as bound.</param>
    /// <param name="ports">A bound listener for each port of the range; this instance owns them.</param>
    /// <param name="acceptQueueDepth">Connections waiting for Kestrel at most.</param>
    public KcpPortRangeListener(KcpEndPoint endPoint, IConnectionListener[] ports, int acceptQueueDepth)
    {
        EndPoint = endPoint;
        _ports = ports;
        _accepted = Channel.CreateBounded<ConnectionContext>(new BoundedChannelOptions(acceptQueueDepth)
        {
            SingleReader = false,
            SingleWriter = false,
            FullMode = BoundedChannelFullMode.Wait,
        });
        var pumps = new Task[ports.Length];
        for (var i = 0; i < ports.Length; i++)
        {
            pumps[i] = PumpAsync(ports[i]);
        }

        // Once every port has stopped accepting, so has the range.
        _pumps = Task.WhenAll(pumps).ContinueWith(static (_, writer) => ((ChannelWriter<ConnectionContext>)writer!).TryComplete(), _accepted.Writer, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    public EndPoint EndPoint { get; }

    /// <summary>The listener of each port, in port order.</summary>
    internal IReadOnlyList<IConnectionListener> Ports => _ports;

    public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            return await _accepted.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            return null;
        }
    }

    /// <summary>Unbinds every port; connections already accepted go on.</summary>
    public async ValueTask UnbindAsync(CancellationToken cancellationToken = default)
    {
        foreach (var port in _ports)
        {
            await port.UnbindAsync(cancellationToken).ConfigureAwait(false);
        }

        _accepted.Writer.TryComplete();
        while (_accepted.Reader.TryRead(out var orphan))
        {
            // Taken from a port but never accepted by Kestrel: nobody else will close it.
            orphan.Abort(new ConnectionAbortedException("The KCP listener was unbound before the connection was accepted."));
            await orphan.DisposeAsync().ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await UnbindAsync().ConfigureAwait(false);
        await _pumps.ConfigureAwait(false);
        foreach (var port in _ports)
        {
            await port.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task PumpAsync(IConnectionListener port)
    {
        while (await port.AcceptAsync().ConfigureAwait(false) is { } connection)
        {
            try
            {
                await _accepted.Writer.WriteAsync(connection).ConfigureAwait(false);
            }
            catch (ChannelClosedException)
            {
                connection.Abort(new ConnectionAbortedException("The KCP listener was unbound before the connection was accepted."));
                await connection.DisposeAsync().ConfigureAwait(false);
            }
        }
    }
}
