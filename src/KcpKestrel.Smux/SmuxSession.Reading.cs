using System.Buffers;
using System.Buffers.Binary;
using KcpKestrel.Smux.Frames;
using KcpKestrel.Smux.Session;

namespace KcpKestrel.Smux;

/// <summary>The read loop: transport bytes to frames to streams.</summary>
public sealed partial class SmuxSession
{
    private async Task ReadLoopAsync()
    {
        var input = _transport.Input;
        try
        {
            while (!_closing.IsCancellationRequested)
            {
                var result = await input.ReadAsync().ConfigureAwait(false);
                var buffer = result.Buffer;
                var paused = false;
                while (!(paused = IsReceivePaused()) && TryProcessFrame(ref buffer))
                {
                }

                // Paused with whole frames still buffered: mark nothing examined, so the next read returns them at once.
                input.AdvanceTo(buffer.Start, paused ? buffer.Start : buffer.End);
                if (result.IsCompleted && !paused && !_closing.IsCancellationRequested)
                {
                    if (!buffer.IsEmpty)
                    {
                        lock (_sync)
                        {
                            _core.OnTruncated(buffer.Length);
                        }
                    }

                    Close(CloseReason ?? "transport closed");
                }

                Task? resume = null;
                lock (_sync)
                {
                    // The session-wide receive limit (v1's only bound, v2's too, as smux's token bucket), checked before
                    // every frame as smux's recvLoop does: buffered bytes stay under MaxReceiveBuffer plus one frame.
                    if (paused && _core.ReceivePaused && !_core.IsClosed)
                    {
                        _resume = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                        resume = _resume.Task;
                    }
                }

                if (resume is not null)
                {
                    await resume.ConfigureAwait(false);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or OperationCanceledException)
        {
            Close($"transport failed: {ex.Message}");
        }
        finally
        {
            await CompleteQuietlyAsync(input.CompleteAsync()).ConfigureAwait(false);
        }
    }

    private bool IsReceivePaused()
    {
        lock (_sync)
        {
            return _core.ReceivePaused;
        }
    }

    /// <summary>Consumes one whole frame from <paramref name="buffer"/>; false when more bytes are needed or the session closed. Internal for the allocation test, which drives it on its own thread.</summary>
    internal bool TryProcessFrame(ref ReadOnlySequence<byte> buffer)
    {
        if (_closing.IsCancellationRequested)
        {
            return false;
        }

        var status = SmuxFrameCodec.TryParseHeader(buffer, _core.Version, out var header);
        if (status == SmuxParseStatus.NeedMore)
        {
            return false;
        }

        if (status != SmuxParseStatus.Ok)
        {
            lock (_sync)
            {
                _core.OnMalformed(status);
            }

            Close(CloseReason ?? "protocol error");
            return false;
        }

        var total = SmuxFrameCodec.HeaderSize + header.Length;
        if (buffer.Length < total)
        {
            return false;
        }

        var payload = buffer.Slice(SmuxFrameCodec.HeaderSize, header.Length);
        buffer = buffer.Slice(total);
        Dispatch(header, payload);
        return true;
    }

    private void Dispatch(in SmuxFrameHeader header, in ReadOnlySequence<byte> payload)
    {
        string? closeReason = null;
        lock (_sync)
        {
            var action = _core.OnFrame(header, NowMs());
            _streams.TryGetValue(header.StreamId, out var stream);
            switch (action)
            {
                case SmuxReceiveAction.Accept:
                    stream = new SmuxStream(this, header.StreamId, _options.MaxFrameSize);
                    _streams[header.StreamId] = stream;
                    _accepts.Writer.TryWrite(stream);
                    break;
                case SmuxReceiveAction.Refuse:
                    EnqueueAnswerFin(header.StreamId);
                    break;
                case SmuxReceiveAction.Deliver when stream is not null:
                    foreach (var segment in payload)
                    {
                        stream.InboundWriter.Write(segment.Span);
                    }

                    // The inbound pipe never pauses its writer, so this flush has completed on return.
                    var flush = stream.InboundWriter.FlushAsync();
                    if (flush.IsCompleted)
                    {
                        flush.GetAwaiter().GetResult();
                    }

                    break;
                case SmuxReceiveAction.RemoteFin when stream is not null:
                    stream.InboundWriter.Complete();
                    Forget(header.StreamId);
                    // A v2 stream waiting for window must learn that none will come.
                    stream.Schedule();
                    break;
                case SmuxReceiveAction.WindowUpdated:
                    Span<byte> body = stackalloc byte[SmuxFrameCodec.UpdateSize];
                    payload.CopyTo(body);
                    var update = _core.OnUpdate(header.StreamId, BinaryPrimitives.ReadUInt32LittleEndian(body), BinaryPrimitives.ReadUInt32LittleEndian(body[4..]));
                    if (update == SmuxReceiveAction.ResetStream)
                    {
                        ResetStream(header.StreamId, stream);
                    }
                    else
                    {
                        stream?.Schedule();
                    }

                    break;
                case SmuxReceiveAction.ResetStream:
                    ResetStream(header.StreamId, stream);
                    break;
                case SmuxReceiveAction.CloseSession:
                    closeReason = _core.CloseReason;
                    break;
            }
        }

        if (closeReason is not null)
        {
            Close(closeReason);
        }
    }

    /// <summary>The core reset the stream: its input fails with the reason, its output ends (the write loop sees it gone), a FIN tells the peer.</summary>
    private void ResetStream(uint id, SmuxStream? stream)
    {
        EnqueueAnswerFin(id);
        if (stream is not null)
        {
            _streams.Remove(id);
            stream.InboundWriter.Complete(new IOException($"smux stream reset: {_core.LastResetReason}"));
            stream.Schedule();
        }
    }

    /// <summary>A FIN that answers the peer (refusal or reset); the write loop reports it sent, which bounds the queue under a SYN flood.</summary>
    private void EnqueueAnswerFin(uint id) => Enqueue(new SmuxWriteItem(SmuxCommand.Fin, id, 0, 0, null));
}
