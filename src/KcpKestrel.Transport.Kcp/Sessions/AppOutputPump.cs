using System.Buffers;
using System.IO.Pipelines;
using KcpKestrel.Core.Arq;

namespace KcpKestrel.Transport.Kcp.Sessions;

/// <summary>
/// App → KCP: moves what the app wrote to the connection's output pipe into KCP while its send
/// window has room and the send-rate cap allows, in chunks of at most <see cref="ChunkSegments"/>
/// segments. A read that does not complete at once wakes the loop through the session's work. Loop thread only.
/// </summary>
internal sealed class AppOutputPump(KcpControlBlock kcp, SendRateLimiter rateLimiter, int sendWindow, int maxSegmentPayload, Action onReadReady)
{
    /// <summary>Segments' worth of app bytes handed to KCP in one Send.</summary>
    public const int ChunkSegments = 64;

    private readonly int _fullChunk = maxSegmentPayload * ChunkSegments;
    private readonly int _sendWindow = sendWindow;
    private PipeReader? _reader;
    private ValueTask<ReadResult> _pendingRead;
    private bool _readInFlight;
    private bool _readerCompleted;
    private int? _maxChunk;

    private enum Step
    {
        More,
        Stop,
        Completed,
    }

    /// <summary>Segments KCP may hold before the pump stops reading (the send window, or less while a peer is unproven).</summary>
    public int SendLimit { get; set; } = sendWindow;

    /// <summary>App bytes handed to KCP in one Send: <see cref="ChunkSegments"/> full segments unless set smaller.</summary>
    public int MaxChunk { get => _maxChunk ?? _fullChunk; set => _maxChunk = value; }

    /// <summary>Back to the full window and chunk (the peer proved its address).</summary>
    public void ResetLimits()
    {
        SendLimit = _sendWindow;
        _maxChunk = null;
    }

    /// <summary>The last pump stopped at the send-rate cap (not at the window or the pipe).</summary>
    public bool RateBlocked { get; private set; }

    public long BytesSent { get; private set; }

    public void Attach(PipeReader reader) => _reader = reader;

    /// <summary>Moves what the app has into KCP; true when the app's output just completed, all of it in KCP.</summary>
    public bool Pump(uint now)
    {
        RateBlocked = false;
        if (_reader is null || _readerCompleted || _readInFlight)
        {
            return false;
        }

        while (kcp.WaitSnd < SendLimit)
        {
            // Kept in a field and consumed exactly once, by the completion callback, when it does not complete now.
#pragma warning disable CA2012
            var read = _reader.ReadAsync();
#pragma warning restore CA2012
            if (!read.IsCompleted)
            {
                _readInFlight = true;
                _pendingRead = read;
                read.GetAwaiter().UnsafeOnCompleted(onReadReady);
                return false;
            }

            var step = Consume(read.Result, now);
            if (step != Step.More)
            {
                return step == Step.Completed;
            }
        }

        return false;
    }

    /// <summary>
    /// A read that waited completed (loop thread, via the session's work); true when the app's
    /// output just completed. After the session ended it only releases the app's writer.
    /// </summary>
    public bool OnReadReady(bool ended, uint now)
    {
        _readInFlight = false;
        ReadResult result;
        try
        {
            // Runs from the read's completion callback: the ValueTask is complete here.
#pragma warning disable CA2012
            result = _pendingRead.Result;
#pragma warning restore CA2012
        }
        catch (InvalidOperationException)
        {
            return false;
        }

        _pendingRead = default;
        if (ended)
        {
            // The session ended while the read waited (Stop cancelled it): release the app's writer.
            _reader!.AdvanceTo(result.Buffer.End);
            CompleteReader();
            return false;
        }

        return Consume(result, now) switch
        {
            Step.More => Pump(now),
            Step.Completed => true,
            _ => false,
        };
    }

    /// <summary>The session ended: completes the app's output, or wakes a pending read to finish in <see cref="OnReadReady"/>.</summary>
    public void Stop()
    {
        if (_readInFlight)
        {
            // Completing a reader under a pending read is not allowed: wake it, and finish there.
            _reader?.CancelPendingRead();
        }
        else if (!_readerCompleted)
        {
            CompleteReader();
        }
    }

    private void CompleteReader()
    {
        _readerCompleted = true;
        _reader?.Complete();
    }

    /// <summary>Moves bytes from the app into KCP while the send window has room.</summary>
    private Step Consume(ReadResult result, uint now)
    {
        var buffer = result.Buffer;
        var consumed = buffer.Start;
        foreach (var memory in buffer)
        {
            var span = memory.Span;
            while (!span.IsEmpty && kcp.WaitSnd < SendLimit)
            {
                var maxChunk = MaxChunk;
                var chunk = span.Length > maxChunk ? span[..maxChunk] : span;
                var allowance = rateLimiter.Allowance(now);
                if (allowance <= 0)
                {
                    // Paced before KCP rather than after: what KCP holds is only what the cap let
                    // through, so its window and retransmissions are not fighting a second queue.
                    RateBlocked = true;
                    break;
                }

                if (chunk.Length > allowance)
                {
                    chunk = chunk[..allowance];
                }

                var n = kcp.Send(chunk);
                if (n < 0)
                {
                    break;
                }

                rateLimiter.Charge(chunk.Length);
                BytesSent += chunk.Length;
                span = span[chunk.Length..];
                consumed = buffer.GetPosition(chunk.Length, consumed);
            }

            if (!span.IsEmpty)
            {
                break;
            }
        }

        var all = consumed.Equals(buffer.End);

        // Marking unconsumed bytes as examined would make the next read wait for new data that
        // a writer blocked on back-pressure never sends: examine only what KCP took.
        _reader!.AdvanceTo(consumed, all ? buffer.End : consumed);
        if (result.IsCompleted && all)
        {
            CompleteReader();
            return Step.Completed;
        }

        return !RateBlocked && (all || kcp.WaitSnd < SendLimit) ? Step.More : Step.Stop;
    }
}
