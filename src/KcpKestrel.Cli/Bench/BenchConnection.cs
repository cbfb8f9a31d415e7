using System.Net.Sockets;
using KcpKestrel.Transport.Kcp;
using Microsoft.AspNetCore.Connections;

namespace KcpKestrel.Cli.Bench;

/// <summary>One client connection of a bench, KCP or TCP, seen as a stream.</summary>
internal sealed class BenchConnection : IAsyncDisposable
{
    private readonly ConnectionContext? _kcp;
    private readonly Socket? _tcp;
    private bool _aborted;

    public BenchConnection(ConnectionContext kcp)
    {
        _kcp = kcp;
        Stream = new DuplexPipeStream(kcp.Transport);
        Session = kcp.Features.Get<IKcpSessionFeature>();
    }

    public BenchConnection(Socket tcp)
    {
        _tcp = tcp;
        Stream = new NetworkStream(tcp, ownsSocket: false);
    }

    public Stream Stream { get; }

    /// <summary>The KCP session's live figures; null on TCP.</summary>
    public IKcpSessionFeature? Session { get; }

    public SessionFigures Statistics()
    {
        if (Session is null)
        {
            return default;
        }

        var s = Session.GetStatistics();
        return new SessionFigures(s.FastRetransmits + s.EarlyRetransmits + s.TimeoutRetransmits, s.FecRecovered, s.SegmentsSent);
    }

    /// <summary>
    /// Ends the connection at once, before <see cref="DisposeAsync"/>: KCP sends its close signal instead of waiting
    /// for acknowledgements a dead peer will never send; TCP resets.
    /// </summary>
    public void Abort()
    {
        _aborted = true;
        _kcp?.Abort(new ConnectionAbortedException("The bench abandoned the session."));
        try
        {
            _tcp?.LingerState = new LingerOption(true, 0);
        }
        catch (SocketException)
        {
            // Already reset by the peer.
        }
    }

    /// <summary>Ends the connection gracefully: KCP completes its output (sent once all is acknowledged), TCP sends FIN.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_kcp is not null)
        {
            await _kcp.Transport.Output.CompleteAsync().ConfigureAwait(false);
            await _kcp.DisposeAsync().ConfigureAwait(false);
        }

        if (_tcp is not null)
        {
            try
            {
                if (!_aborted)
                {
                    _tcp.Shutdown(SocketShutdown.Send);
                }
            }
            catch (SocketException)
            {
            }

            _tcp.Dispose();
        }

        await Stream.DisposeAsync().ConfigureAwait(false);
    }
}
