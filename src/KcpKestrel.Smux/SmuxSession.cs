using System.Buffers;
using System.IO.Pipelines;
using System.Threading.Channels;
using KcpKestrel.Smux.Frames;
using KcpKestrel.Smux.Session;

namespace KcpKestrel.Smux;

/// <summary>
/// An smux session (xtaci/smux 1.5.16 wire format, v1 or v2) over any duplex byte stream, such as a KCP or TCP
/// connection's Transport. One read loop parses frames into the streams' inputs; one write loop sends control
/// frames in order and streams' data round-robin, one frame per turn; a keepalive timer sends NOPs and closes a
/// silent session. The protocol decisions are <see cref="SmuxSessionCore"/>'s; this type only moves bytes.
/// </summary>
public sealed partial class SmuxSession : IAsyncDisposable
{
    private readonly IDuplexPipe _transport;
    private readonly SmuxOptions _options;
    private readonly TimeProvider _time;
    private readonly SmuxSessionCore _core;
    private readonly Lock _sync = new();
    private readonly Dictionary<uint, SmuxStream> _streams = [];
    private readonly SmuxWriteQueue _writes = new();
    private readonly Channel<SmuxStream> _accepts = Channel.CreateUnbounded<SmuxStream>();
    private readonly CancellationTokenSource _closing = new();
    private TaskCompletionSource? _resume;
    private SmuxStream[] _abandoned = [];

    /// <summary>Starts a session over <paramref name="transport"/>; <paramref name="isClient"/> picks odd (client) or even (server) stream ids.</summary>
    public SmuxSession(IDuplexPipe transport, bool isClient, SmuxOptions? options = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(transport);
        _transport = transport;
        _options = options ?? new SmuxOptions();
        _time = timeProvider ?? TimeProvider.System;
        _core = new SmuxSessionCore(_options, isClient, _time.GetTimestamp() * 1000 / _time.TimestampFrequency);
        Completion = Task.WhenAll(
            Task.Run(ReadLoopAsync),
            Task.Run(WriteLoopAsync),
            _options.KeepAliveDisabled ? Task.CompletedTask : Task.Run(KeepAliveLoopAsync));
    }

    /// <summary>Completes when the session's loops have ended (after <see cref="CloseReason"/> is set).</summary>
    public Task Completion { get; }

    /// <summary>Why the session closed; null while open.</summary>
    public string? CloseReason
    {
        get
        {
            lock (_sync)
            {
                return _core.CloseReason;
            }
        }
    }

    /// <summary>Refused, reset and ignored frames, protocol errors and timeouts.</summary>
    public SmuxCounters Counters => _core.Counters;

    /// <summary>Streams in the table (open in at least one direction, or waiting to be accepted).</summary>
    public int StreamCount
    {
        get
        {
            lock (_sync)
            {
                return _core.StreamCount;
            }
        }
    }

    /// <summary>Received bytes no stream has consumed yet (bounded by MaxReceiveBuffer plus one frame).</summary>
    internal int BufferedBytes
    {
        get
        {
            lock (_sync)
            {
                return _core.SessionBuffered;
            }
        }
    }

    /// <summary>Opens a stream (sends SYN).</summary>
    /// <exception cref="IOException">The session is closed, at MaxStreams, or out of stream ids.</exception>
    public ValueTask<SmuxStream> OpenStreamAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_sync)
        {
            if (!_core.TryOpen(out var id))
            {
                throw new IOException(_core.CloseReason is { } reason ? $"smux session closed: {reason}" : "smux session cannot open more streams.");
            }

            var stream = new SmuxStream(this, id, _options.MaxFrameSize);
            _streams[id] = stream;
            Enqueue(new SmuxWriteItem(SmuxCommand.Syn, id, 0, 0, null));
            return new ValueTask<SmuxStream>(stream);
        }
    }

    /// <summary>Waits for a stream the peer opened.</summary>
    /// <exception cref="IOException">The session closed.</exception>
    public async ValueTask<SmuxStream> AcceptStreamAsync(CancellationToken cancellationToken = default)
    {
        SmuxStream stream;
        try
        {
            stream = await _accepts.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            throw new IOException($"smux session closed: {CloseReason}");
        }

        lock (_sync)
        {
            _core.OnAccepted(stream.Id);
        }

        return stream;
    }

    /// <summary>Closes the session and every stream, then waits for the loops to end.</summary>
    public async ValueTask DisposeAsync()
    {
        Close("closed locally");
        await Completion.ConfigureAwait(false);
        _closing.Dispose();
    }

    internal void ScheduleData(SmuxStream stream) => Enqueue(new SmuxWriteItem(SmuxCommand.Psh, stream.Id, 0, 0, stream));

    internal void OnConsumed(SmuxStream stream, int count)
    {
        lock (_sync)
        {
            if (_core.OnConsumed(stream.Id, count) is { } consumed)
            {
                Enqueue(new SmuxWriteItem(SmuxCommand.Upd, stream.Id, consumed, (uint)_options.MaxStreamBuffer, null));
            }

            if (_resume is not null && !_core.ReceivePaused)
            {
                _resume.TrySetResult();
                _resume = null;
            }
        }
    }

    internal void OnInputClosed(SmuxStream stream)
    {
        lock (_sync)
        {
            _core.OnInputClosed(stream.Id);
            Forget(stream.Id);
            _resume?.TrySetResult();
            _resume = null;
        }
    }

    private void Enqueue(in SmuxWriteItem item) => _writes.TryWrite(item);

    private void Close(string reason)
    {
        SmuxStream[] streams;
        lock (_sync)
        {
            if (_closing.IsCancellationRequested)
            {
                return;
            }

            _core.Close(reason);
            streams = [.. _streams.Values];
            _streams.Clear();
            var error = new IOException($"smux session closed: {_core.CloseReason}");
            foreach (var stream in streams)
            {
                stream.InboundWriter.Complete(error);
            }

            _resume?.TrySetResult();
            _resume = null;
            // The write loop owns the outbound readers; it completes these when it ends.
            _abandoned = streams;
            _closing.Cancel();
        }

        _accepts.Writer.TryComplete();
        _writes.Complete();
        // Each loop may have completed its end already (a stream-backed pipe disposes its cancellation token then): nothing waits there.
        try
        {
            _transport.Input.CancelPendingRead();
        }
        catch (ObjectDisposedException)
        {
        }

        // A peer that stopped reading must not keep the write loop (and so DisposeAsync) waiting on backpressure.
        try
        {
            _transport.Output.CancelPendingFlush();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>Drops the shell's handle once the core no longer knows the stream.</summary>
    private void Forget(uint id)
    {
        if (!_core.IsLive(id))
        {
            _streams.Remove(id);
        }
    }

    private long NowMs() => _time.GetTimestamp() * 1000 / _time.TimestampFrequency;
}
