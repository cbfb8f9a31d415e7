using System.IO.Pipelines;
using KcpKestrel.Core.Arq;
using KcpKestrel.Transport.Kcp.Connections;

namespace KcpKestrel.Transport.Kcp.Sessions;

/// <summary>
/// KCP → app: moves what KCP has reassembled into the connection's input pipe. When the app falls
/// behind it stops draining, so KCP's receive window closes and the peer waits; when the app stops
/// reading it discards, so the window stays open. Loop thread only.
/// </summary>
internal sealed class AppInputPump(KcpControlBlock kcp, Action onResumed)
{
    private PipeWriter? _writer;
    private ValueTask<FlushResult> _pendingFlush;
    private bool _paused;
    private bool _discarding;

    public long BytesReceived { get; private set; }

    public void Attach(PipeWriter writer) => _writer = writer;

    /// <summary>Writes into <paramref name="connection"/>'s input pipe, whose unread bytes count in <paramref name="memory"/>.</summary>
    public void Attach(KcpConnection connection, SessionReceiveMemory memory)
    {
        _writer = connection.Application.Output;
        var reader = connection.InputReader;
        memory.AttachPipe(() => _discarding || reader.IsCompleted ? 0 : BytesReceived - reader.Consumed);
    }

    /// <summary>Moves every message KCP has into the pipe, unless the app is behind.</summary>
    public void Drain()
    {
        if (_discarding)
        {
            // Nobody reads any more: discard messages of any size (without copying them), so KCP's window
            // stays open and the peer is not stalled.
            while (kcp.DiscardMessage() >= 0)
            {
            }

            return;
        }

        if (_paused || _writer is null)
        {
            return;
        }

        var writer = _writer;
        var any = false;
        while (true)
        {
            var size = kcp.PeekSize();
            if (size < 0)
            {
                break;
            }

            if (size == 0)
            {
                // A zero-length PUSH (kcp-go never sends one, a peer may): consume it as kcp-go's Recv does,
                // or it would sit at the head of rcv_queue for ever and close the window.
                _ = kcp.Receive([]);
                continue;
            }

            var span = writer.GetSpan(size);
            var n = kcp.Receive(span);
            if (n <= 0)
            {
                break;
            }

            writer.Advance(n);
            BytesReceived += n;
            any = true;
        }

        if (!any)
        {
            return;
        }

        // Kept in a field and consumed exactly once, by the completion callback, when it does not complete now.
#pragma warning disable CA2012
        var flush = writer.FlushAsync();
#pragma warning restore CA2012
        if (flush.IsCompleted)
        {
            if (flush.Result.IsCompleted)
            {
                // The app stopped reading: keep KCP's window open by discarding from now on.
                _discarding = true;
            }

            return;
        }

        // The app is behind: stop draining KCP, so its receive window closes and the peer waits.
        _paused = true;
        _pendingFlush = flush;
        flush.GetAwaiter().UnsafeOnCompleted(onResumed);
    }

    /// <summary>The app caught up (the flush that paused draining completed). Loop thread, via the session's work.</summary>
    public void OnResumed()
    {
        _paused = false;
        try
        {
            // Runs from the flush's completion callback: the ValueTask is complete here.
#pragma warning disable CA2012
            if (_pendingFlush.Result.IsCompleted)
#pragma warning restore CA2012
            {
                _discarding = true;
            }
        }
        catch (InvalidOperationException)
        {
            _discarding = true;
        }

        _pendingFlush = default;
    }

    /// <summary>The session ended: the app reads to the end (or sees <paramref name="error"/>).</summary>
    public void Complete(Exception? error) => _writer?.Complete(error);
}
