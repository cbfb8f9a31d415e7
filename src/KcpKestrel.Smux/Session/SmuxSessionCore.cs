using KcpKestrel.Smux.Frames;

namespace KcpKestrel.Smux.Session;

/// <summary>
/// smux's session logic without I/O, threads or a clock: the stream table, id allocation, admission limits,
/// receive-buffer and v2 window accounting, keepalive. Not thread-safe: the shell calls it under one lock.
/// Never throws on peer input; a violation becomes a <see cref="SmuxReceiveAction"/> and a counter.
/// </summary>
internal sealed class SmuxSessionCore
{
    /// <summary>smux's initial guess of the peer's window (frame.go initialPeerWindow); a v2 sender may fill it before the first UPD.</summary>
    public const uint InitialPeerWindow = 262144;

    private readonly SmuxOptions _options;
    private readonly Dictionary<uint, SmuxStreamState> _streams = [];
    private readonly long _keepAliveIntervalMs;
    private readonly long _keepAliveTimeoutMs;
    private uint _nextStreamId;
    private bool _goAway;
    private readonly bool _isClient;
    private int _pendingAccepts;
    private int _unsentFins;
    private long _lastReceiveMs;
    private long _lastNopMs;

    public SmuxSessionCore(SmuxOptions options, bool isClient, long nowMs)
    {
        options.Validate();
        _options = options;
        _isClient = isClient;
        Version = (byte)options.Version;
        // smux: the client's ids are odd (first 3), the server's even (first 2).
        _nextStreamId = isClient ? 1u : 0u;
        _keepAliveIntervalMs = (long)options.KeepAliveInterval.TotalMilliseconds;
        _keepAliveTimeoutMs = (long)options.KeepAliveTimeout.TotalMilliseconds;
        _lastReceiveMs = nowMs;
        _lastNopMs = nowMs;
    }

    public byte Version { get; }

    public SmuxCounters Counters { get; } = new();

    /// <summary>Why the session closed; null while open.</summary>
    public string? CloseReason { get; private set; }

    public bool IsClosed => CloseReason is not null;

    /// <summary>Unread bytes over all streams.</summary>
    public int SessionBuffered { get; private set; }

    /// <summary>smux's recvLoop stops reading while its token bucket is empty; so does the shell while this holds.</summary>
    public bool ReceivePaused => SessionBuffered >= _options.MaxReceiveBuffer;

    public int StreamCount => _streams.Count;

    /// <summary>Why the last stream was reset (the shell fails that stream's input with it); null before any reset.</summary>
    public string? LastResetReason { get; private set; }

    public bool IsLive(uint streamId) => _streams.ContainsKey(streamId);

    /// <summary>Allocates the next local stream id and registers it; false once closed, full, or ids ran out (smux's ErrGoAway).</summary>
    public bool TryOpen(out uint streamId)
    {
        streamId = 0;
        if (IsClosed || _goAway || _streams.Count >= _options.MaxStreams)
        {
            return false;
        }

        _nextStreamId += 2;
        if (_nextStreamId < 2)
        {
            _goAway = true;
            return false;
        }

        streamId = _nextStreamId;
        _streams[streamId] = new SmuxStreamState(streamId);
        Counters._streamsOpened++;
        return true;
    }

    /// <summary>
    /// A header that failed to parse (wrong version, unknown command, a length the command cannot have). smux closes
    /// the session on the first two; on the last it would misread every later header, so the session cannot go on either.
    /// </summary>
    public SmuxReceiveAction OnMalformed(SmuxParseStatus status) => ProtocolError($"protocol error: {status}");

    /// <summary>
    /// The transport ended inside a frame. smux reports io.ErrUnexpectedEOF the same as a clean end; we close with our
    /// own reason and count it, since a peer that stops mid-frame lost data the application never sees.
    /// </summary>
    public SmuxReceiveAction OnTruncated(long leftover) => ProtocolError($"protocol error: transport ended inside a frame ({leftover} bytes left over)");

    /// <summary>Decides what a parsed frame means. For PSH the payload length is in the header; for UPD call <see cref="OnUpdate"/> with its body.</summary>
    public SmuxReceiveAction OnFrame(in SmuxFrameHeader header, long nowMs)
    {
        if (IsClosed)
        {
            return SmuxReceiveAction.Ignore;
        }

        _lastReceiveMs = nowMs;
        _streams.TryGetValue(header.StreamId, out var stream);
        switch (header.Command)
        {
            case SmuxCommand.Nop:
                return SmuxReceiveAction.Ignore;
            case SmuxCommand.Syn:
                return OnSyn(header.StreamId, stream);
            case SmuxCommand.Fin:
                if (stream is null || stream.RemoteFinReceived)
                {
                    Counters._framesIgnored++;
                    return SmuxReceiveAction.Ignore;
                }

                stream.RemoteFinReceived = true;
                Forget(stream);
                return SmuxReceiveAction.RemoteFin;
            case SmuxCommand.Psh:
                return OnData(stream, header.Length);
            default:
                // UPD: the shell reads the body and calls OnUpdate.
                return stream is null ? Ignored() : SmuxReceiveAction.WindowUpdated;
        }
    }

    /// <summary>
    /// Applies a v2 UPD (smux stream.update: both values replace the old ones). A peer claiming to have consumed more
    /// than we sent is broken: smux fails the stream's writes with ErrConsumed and the stream hangs there; we reset it
    /// (<see cref="SmuxReceiveAction.ResetStream"/>), so both ends learn at once.
    /// </summary>
    public SmuxReceiveAction OnUpdate(uint streamId, uint consumed, uint window)
    {
        if (IsClosed || !_streams.TryGetValue(streamId, out var stream))
        {
            return SmuxReceiveAction.Ignore;
        }

        // Wrapping difference, as smux's numWritten - peerConsumed.
        if ((int)(stream.NumWritten - consumed) < 0)
        {
            Counters._consumedOverclaims++;
            return Reset(stream, "the peer claimed to have consumed more than was sent");
        }

        stream.PeerConsumed = consumed;
        stream.PeerWindow = window;
        return SmuxReceiveAction.WindowUpdated;
    }

    /// <summary>The write loop sent a FIN that answered a refused SYN or a reset.</summary>
    public void OnAnswerFinSent()
    {
        if (_unsentFins > 0)
        {
            _unsentFins--;
        }
    }

    /// <summary>The application took an accepted stream out of the backlog.</summary>
    public void OnAccepted(uint streamId)
    {
        if (_streams.TryGetValue(streamId, out var stream) && stream.PendingAccept)
        {
            stream.PendingAccept = false;
            _pendingAccepts--;
        }
    }

    /// <summary>
    /// The application consumed <paramref name="count"/> bytes of the stream. Returns the consumed total to
    /// announce in a UPD, or null: smux announces on the first read and whenever half of MaxStreamBuffer has
    /// been read since the last announcement, which keeps a Go sender streaming without stalls.
    /// </summary>
    public uint? OnConsumed(uint streamId, int count)
    {
        // A stream already forgotten gave its unread bytes back to the session in Remove.
        if (!_streams.TryGetValue(streamId, out var stream) || count == 0)
        {
            return null;
        }

        SessionBuffered -= count;
        stream.Buffered -= count;
        return Version >= 2 ? Acknowledge(stream, (uint)count) : null;
    }

    /// <summary>v2: how many bytes the stream may send now (smux writeV2: peerWindow - inflight); v1: unbounded.</summary>
    public int SendAllowance(uint streamId)
    {
        if (Version < 2)
        {
            return int.MaxValue;
        }

        if (!_streams.TryGetValue(streamId, out var stream))
        {
            return 0;
        }

        // Wrapping arithmetic, as smux. OnUpdate keeps PeerConsumed at most NumWritten, so inflight is never negative.
        var inflight = (int)(stream.NumWritten - stream.PeerConsumed);
        return (int)Math.Clamp((long)stream.PeerWindow - inflight, 0, int.MaxValue);
    }

    /// <summary>The peer sent FIN on the stream (or it is gone): no UPD will open its window again.</summary>
    public bool IsPeerDone(uint streamId) => !_streams.TryGetValue(streamId, out var stream) || stream.RemoteFinReceived;

    /// <summary>Records <paramref name="count"/> data bytes sent on the stream.</summary>
    public void OnSent(uint streamId, int count)
    {
        if (_streams.TryGetValue(streamId, out var stream))
        {
            stream.NumWritten += (uint)count;
        }
    }

    /// <summary>This side sent FIN on the stream. Returns true when the stream left the table.</summary>
    public bool OnLocalFin(uint streamId)
    {
        if (!_streams.TryGetValue(streamId, out var stream))
        {
            return true;
        }

        stream.LocalFinSent = true;
        return Forget(stream);
    }

    /// <summary>The application stopped reading the stream: its unread bytes return to the session buffer.</summary>
    public bool OnInputClosed(uint streamId)
    {
        if (!_streams.TryGetValue(streamId, out var stream))
        {
            return true;
        }

        stream.InputClosed = true;
        SessionBuffered -= stream.Buffered;
        stream.Buffered = 0;
        return Forget(stream);
    }

    /// <summary>Drops a stream at once (reset, or the shell gave up on it).</summary>
    public void Remove(uint streamId)
    {
        if (_streams.Remove(streamId, out var stream))
        {
            SessionBuffered -= stream.Buffered;
            if (stream.PendingAccept)
            {
                _pendingAccepts--;
            }
        }
    }

    /// <summary>Keepalive. Returns true when a NOP is due; closes the session when the peer was silent past KeepAliveTimeout.</summary>
    public bool Tick(long nowMs)
    {
        if (IsClosed || _options.KeepAliveDisabled)
        {
            return false;
        }

        // smux does not time out while its own reader is paused on a full buffer: the silence is ours.
        if (ReceivePaused)
        {
            _lastReceiveMs = nowMs;
        }
        else if (nowMs - _lastReceiveMs >= _keepAliveTimeoutMs)
        {
            Close("keepalive timeout");
            Counters._keepAliveTimeouts++;
            return false;
        }

        if (nowMs - _lastNopMs >= _keepAliveIntervalMs)
        {
            _lastNopMs = nowMs;
            return true;
        }

        return false;
    }

    /// <summary>Closes the session (first reason wins) and forgets every stream.</summary>
    public void Close(string reason)
    {
        CloseReason ??= reason;
        _streams.Clear();
        _pendingAccepts = 0;
        _unsentFins = 0;
        SessionBuffered = 0;
    }

    private SmuxReceiveAction OnSyn(uint streamId, SmuxStreamState? stream)
    {
        if (stream is not null)
        {
            // smux ignores a SYN for a live id. Stricter: the peer lost track of the stream, so neither side can trust
            // its bytes; the stream is reset (the session goes on).
            return Reset(stream, "the peer opened a stream id that is still live");
        }

        if ((streamId & 1) == (_isClient ? 1u : 0u))
        {
            // An id from our own half (smux does not check): admitting it would collide with a stream we open later.
            return Refuse();
        }

        if (_streams.Count >= _options.MaxStreams || _pendingAccepts >= _options.AcceptBacklog)
        {
            return Refuse();
        }

        _streams[streamId] = new SmuxStreamState(streamId) { PendingAccept = true };
        _pendingAccepts++;
        Counters._streamsAccepted++;
        return SmuxReceiveAction.Accept;
    }

    private SmuxReceiveAction OnData(SmuxStreamState? stream, int length)
    {
        if (length == 0)
        {
            return SmuxReceiveAction.Ignore;
        }

        if (stream is null || stream.RemoteFinReceived)
        {
            // smux reads and drops a PSH for an unknown id.
            return Ignored();
        }

        if (stream.InputClosed)
        {
            // Nobody reads it. smux drops data for a stream it closed, without a UPD; so do we.
            return Ignored();
        }

        // A v2 peer may send up to its initial guess before our first UPD; past that it broke our window.
        if (Version >= 2 && stream.Buffered + length > Math.Max(_options.MaxStreamBuffer, (int)InitialPeerWindow))
        {
            Counters._windowOverflows++;
            return Reset(stream, "the peer overflowed the stream's window");
        }

        stream.Buffered += length;
        SessionBuffered += length;
        return SmuxReceiveAction.Deliver;
    }

    private SmuxReceiveAction Refuse()
    {
        // Each refusal queues a FIN. A peer that floods SYNs and does not read our answers would grow that queue without
        // bound; past AcceptBacklog unsent answers it is an attack, not a busy client, and the session ends.
        if (_unsentFins >= _options.AcceptBacklog)
        {
            Counters._streamsRefused++;
            return ProtocolError("protocol error: stream flood (SYNs refused faster than the peer reads the answers)");
        }

        _unsentFins++;
        Counters._streamsRefused++;
        return SmuxReceiveAction.Refuse;
    }

    private SmuxReceiveAction Reset(SmuxStreamState stream, string reason)
    {
        LastResetReason = reason;
        _unsentFins++;
        Counters._streamsReset++;
        Remove(stream.Id);
        return SmuxReceiveAction.ResetStream;
    }

    private SmuxReceiveAction ProtocolError(string reason)
    {
        if (!IsClosed)
        {
            Counters._protocolErrors++;
        }

        Close(reason);
        return SmuxReceiveAction.CloseSession;
    }

    private uint? Acknowledge(SmuxStreamState stream, uint count)
    {
        stream.NumRead += count;
        stream.Increment += count;
        if (stream.Increment >= (uint)(_options.MaxStreamBuffer / 2) || stream.NumRead == count)
        {
            stream.Increment = 0;
            return stream.NumRead;
        }

        return null;
    }

    private bool Forget(SmuxStreamState stream)
    {
        if (!stream.IsFinished)
        {
            return false;
        }

        Remove(stream.Id);
        return true;
    }

    private SmuxReceiveAction Ignored()
    {
        Counters._framesIgnored++;
        return SmuxReceiveAction.Ignore;
    }
}
