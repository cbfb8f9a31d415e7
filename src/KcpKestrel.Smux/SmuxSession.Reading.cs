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
                while (TryProcessFrame(ref buffer))
                {
                }

                input.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted && !_closing.IsCancellationRequested)
                {
                    Close("transport closed");
                }

                Task? resume = null;
                lock (_sync)
                {
                    // v1's session-wide buffer (and v2's too, as smux's token bucket): stop reading the transport while it is full.
                    // Checked between transport reads, not per frame: the frames of one read are all dispatched, so the
                    // peer's UPDs queued behind data still open our windows (a per-frame stop can deadlock two echoes).
                    if (_core.ReceivePaused && !_core.IsClosed)
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

    /// <summary>Consumes one whole frame from <paramref name="buffer"/>; false when more bytes are needed or the session closed.</summary>
    private bool TryProcessFrame(ref ReadOnlySequence<byte> buffer)
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
                    Enqueue(new SmuxWriteItem(SmuxCommand.Fin, header.StreamId, 0, 0, null));
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
                    _core.OnUpdate(header.StreamId, BinaryPrimitives.ReadUInt32LittleEndian(body), BinaryPrimitives.ReadUInt32LittleEndian(body[4..]));
                    stream?.Schedule();
                    break;
                case SmuxReceiveAction.ResetStream when stream is not null:
                    _streams.Remove(header.StreamId);
                    stream.InboundWriter.Complete(new IOException("smux stream reset: the peer overflowed its window."));
                    Enqueue(new SmuxWriteItem(SmuxCommand.Fin, header.StreamId, 0, 0, null));
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
}
