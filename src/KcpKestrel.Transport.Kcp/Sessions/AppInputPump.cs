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
        ValueTask<FlushResult> flush;
        try
        {
#pragma warning disable CA2012
            flush = writer.FlushAsync();
#pragma warning restore CA2012
        }
        catch (Exception e) when (IsAppCompletion(e))
        {
            _discarding = true;
            return;
        }

        if (flush.IsCompleted)
        {
            if (AppStopped(flush))
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

        // Runs from the flush's completion callback: the ValueTask is complete here.
        if (AppStopped(_pendingFlush))
        {
            _discarding = true;
        }

        _pendingFlush = default;
    }

    /// <summary>
    /// Whether a completed flush says the app stopped reading: it completed the input, or completed it with an error,
    /// which the pipe rethrows from the flush (snappy ends the input with its decode error, say). Either way the loop
    /// discards from now on; the error is the app's, and must not escape into the I/O loop.
    /// </summary>
    private static bool AppStopped(ValueTask<FlushResult> flush)
    {
        try
        {
#pragma warning disable CA2012
            return flush.Result.IsCompleted;
#pragma warning restore CA2012
        }
        catch (Exception e) when (IsAppCompletion(e))
        {
            return true;
        }
    }

    /// <summary>An exception from the input pipe's writer side: the reader's completion error, or the pipe's own misuse report.</summary>
    private static bool IsAppCompletion(Exception e) => e is not (OutOfMemoryException or StackOverflowException);

    /// <summary>The session ended: the app reads to the end (or sees <paramref name="error"/>).</summary>
    public void Complete(Exception? error) => _writer?.Complete(error);
}
