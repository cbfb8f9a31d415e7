using System.IO.Pipelines;
using KcpKestrel.Smux.Frames;
using KcpKestrel.Smux.Session;

namespace KcpKestrel.Smux;

/// <summary>The write loop and the keepalive timer.</summary>
public sealed partial class SmuxSession
{
    /// <summary>
    /// Bytes written to the transport between flushes. Streams with data put themselves back on the queue, so without
    /// this bound the loop would never reach its flush while they have data, and the transport's backpressure would
    /// never apply: the unflushed bytes grew to every stream's pending output at once.
    /// </summary>
    private const int FlushThreshold = 65536;

    private async Task WriteLoopAsync()
    {
        var output = _transport.Output;
        var version = _core.Version;
        try
        {
            var queue = _writes;
            while (await queue.WaitToReadAsync().ConfigureAwait(false))
            {
                var unflushed = 0;
                while (unflushed < FlushThreshold && queue.TryRead(out var item))
                {
                    if (item.Stream is { } stream)
                    {
                        unflushed += WriteData(output, stream);
                    }
                    else if (item.Command == SmuxCommand.Upd)
                    {
                        SmuxFrameCodec.WriteUpdate(output, version, item.StreamId, item.Consumed, item.Window);
                        unflushed += SmuxFrameCodec.HeaderSize + SmuxFrameCodec.UpdateSize;
                    }
                    else
                    {
                        SmuxFrameCodec.WriteControl(output, version, item.Command, item.StreamId);
                        unflushed += SmuxFrameCodec.HeaderSize;
                        if (item.Command == SmuxCommand.Fin)
                        {
                            // Control FINs (no Stream) are only the answers to refusals and resets; streams' own FINs go through SendFin.
                            lock (_sync)
                            {
                                _core.OnAnswerFinSent();
                            }
                        }
                    }
                }

                var flush = await output.FlushAsync().ConfigureAwait(false);
                if (flush.IsCompleted || flush.IsCanceled)
                {
                    Close("transport closed for writing");
                }
            }
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or OperationCanceledException)
        {
            Close($"transport failed: {ex.Message}");
        }
        finally
        {
            await CompleteQuietlyAsync(output.CompleteAsync()).ConfigureAwait(false);
            SmuxStream[] abandoned;
            lock (_sync)
            {
                abandoned = _abandoned;
            }

            foreach (var stream in abandoned)
            {
                stream.CompleteOutput();
            }
        }
    }

    /// <summary>One turn of a stream: at most one PSH frame (or its FIN), then back to the end of the queue if it has more. Returns the bytes written.</summary>
    private int WriteData(PipeWriter output, SmuxStream stream)
    {
        stream.Unschedule();
        var reader = stream.OutboundReader;
        if (_closing.IsCancellationRequested || stream.IsOutputDone || !reader.TryRead(out var result))
        {
            return 0;
        }

        var buffer = result.Buffer;
        bool live;
        int allowance;
        lock (_sync)
        {
            live = _core.IsLive(stream.Id);
            allowance = _core.SendAllowance(stream.Id);
        }

        if (!live)
        {
            // Reset by the core: its answer FIN is queued already; the rest of the output is dropped.
            reader.AdvanceTo(buffer.End);
            stream.CompleteOutput();
            return 0;
        }

        if (buffer.IsEmpty)
        {
            if (result.IsCompleted)
            {
                SendFin(output, stream);
                return SmuxFrameCodec.HeaderSize;
            }

            reader.AdvanceTo(buffer.Start);
            return 0;
        }

        var size = (int)Math.Min(buffer.Length, Math.Min(_options.MaxFrameSize, allowance));
        if (size <= 0)
        {
            reader.AdvanceTo(buffer.Start);
            bool peerDone;
            lock (_sync)
            {
                peerDone = _core.IsPeerDone(stream.Id);
            }

            // v2 window closed: the stream waits for the peer's UPD, which schedules it again. After the peer's FIN
            // no UPD can come; smux's writeV2 then fails the write (io.EOF) and so do we: the rest is dropped.
            if (peerDone)
            {
                SendFin(output, stream);
                return SmuxFrameCodec.HeaderSize;
            }

            return 0;
        }

        SmuxFrameCodec.WriteData(output, _core.Version, stream.Id, buffer.Slice(0, size));
        lock (_sync)
        {
            _core.OnSent(stream.Id, size);
        }

        reader.AdvanceTo(buffer.GetPosition(size));
        if (buffer.Length > size || result.IsCompleted)
        {
            stream.Schedule();
        }

        return SmuxFrameCodec.HeaderSize + size;
    }

    /// <summary>Ends the stream's output: FIN on the wire, the outbound pipe completed (a waiting writer sees IsCompleted).</summary>
    private void SendFin(PipeWriter output, SmuxStream stream)
    {
        SmuxFrameCodec.WriteControl(output, _core.Version, SmuxCommand.Fin, stream.Id);
        stream.CompleteOutput();
        lock (_sync)
        {
            _core.OnLocalFin(stream.Id);
            Forget(stream.Id);
        }
    }

    /// <summary>Completing a transport end flushes what is left; the other end may have torn the transport down already, which is no error of the session.</summary>
    private static async ValueTask CompleteQuietlyAsync(ValueTask completion)
    {
        try
        {
            await completion.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or OperationCanceledException)
        {
        }
    }

    private async Task KeepAliveLoopAsync()
    {
        var period = _options.KeepAliveInterval < TimeSpan.FromSeconds(1) ? _options.KeepAliveInterval : TimeSpan.FromSeconds(1);
        using var timer = new PeriodicTimer(period, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(_closing.Token).ConfigureAwait(false))
            {
                bool nop;
                string? reason;
                lock (_sync)
                {
                    nop = _core.Tick(NowMs());
                    reason = _core.CloseReason;
                }

                if (reason is not null)
                {
                    Close(reason);
                    return;
                }

                if (nop)
                {
                    Enqueue(new SmuxWriteItem(SmuxCommand.Nop, 0, 0, 0, null));
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
