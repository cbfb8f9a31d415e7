using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using KcpKestrel.Core.Arq;
using KcpKestrel.Core.Crypto;
using KcpKestrel.Core.Fec;
using KcpKestrel.Transport.Kcp.Connections;
using KcpKestrel.Transport.Kcp.Diagnostics;
using KcpKestrel.Transport.Kcp.Io.Datagrams;
using KcpKestrel.Transport.Kcp.Io.Loops;
using Microsoft.AspNetCore.Connections;

namespace KcpKestrel.Transport.Kcp.Sessions;

/// <summary>
/// One KCP conversation on an I/O loop: the protocol stack (KCP, FEC, cipher) between a UDP
/// channel and a <see cref="KcpConnection"/>'s pipes. Everything but the <c>Request*</c> methods
/// and <see cref="GetStatistics"/> runs on the owning loop's thread, so KCP state needs no lock.
/// </summary>
internal sealed class KcpSession : TimerWheelEntry, IKcpOutput, IKcpConnectionSession, ILoopFlushable, ILoopWorkItem, IDisposable
{
    /// <summary>Our close signal's cmd. kcp-go rejects unknown commands (-3) and carries on, so it is harmless there.</summary>
    public const byte CloseCommand = 88;

    private const int WorkOutputReady = 1;
    private const int WorkInputResumed = 2;
    private const int WorkAbort = 4;
    private const int WorkDispose = 8;

    // Extra copies of the close signal after the first.
    private const int CloseRepeats = 3;

    // Bounds a graceful close whose last bytes are never acknowledged (a peer that vanished).
    private const uint CloseLingerMs = 10_000;

    private readonly KcpIoLoop _loop;
    private readonly IDatagramChannel _channel;
    private readonly byte[] _sockaddr;
    private readonly KcpControlBlock _kcp;
    private readonly PacketCipher _cipher;
    private readonly FecEncoder? _fecEncoder;
    private readonly FecDecoder? _fecDecoder;
    private readonly KcpTransportCounters _counters;
    private readonly IKcpSessionOwner _owner;
    private readonly int _prefix;
    private readonly int _reserved;
    private readonly int _sendLimit;
    private readonly int _maxChunk;
    private readonly uint _idleTimeoutMs;
    private readonly Action _onOutputReady;
    private readonly Action _onInputResumed;
    private readonly Lock _statsLock = new();

    private PipeReader? _appOutput;
    private PipeWriter? _appInput;
    private ValueTask<ReadResult> _pendingRead;
    private ValueTask<FlushResult> _pendingFlush;
    private bool _readInFlight;
    private bool _inputPaused;
    private bool _inputCompleted;
    private bool _outputCompleted;
    private bool _closeSent;
    private bool _dirtyQueued;
    private bool _ended;
    private bool _disposeRequested;
    private bool _released;
    private int _lingerLeft;
    private readonly SendRateLimiter _rateLimiter = new();
    private bool _rateBlocked;
    private int _pendingWork;
    private uint _now;
    private uint _lastReceive;
    private uint _closingSince;
    private long _bytesReceived;
    private long _bytesSent;
    private long _fecRecovered;
    private KcpSessionStatistics _stats;
    private volatile ConnectionAbortedException? _abortReason;
    private KcpCloseReason _closeReason;

    public KcpSession(
        KcpIoLoop loop,
        IDatagramChannel channel,
        UdpAddressKey key,
        ReadOnlySpan<byte> sockaddr,
        uint conv,
        KcpOptions options,
        PacketCipher cipher,
        IKcpSessionOwner owner,
        uint now)
    {
        _loop = loop;
        _channel = channel;
        Key = key;
        _sockaddr = sockaddr.ToArray();
        Conv = conv;
        _cipher = cipher;
        _owner = owner;
        _counters = loop.Counters;
        Options = options;
        _now = now;
        _lastReceive = now;
        _idleTimeoutMs = (uint)Math.Min(options.IdleTimeout.TotalMilliseconds, int.MaxValue);

        var fec = options.DataShards > 0 && options.ParityShards > 0;
        if (fec)
        {
            _fecEncoder = new FecEncoder(options.DataShards, options.ParityShards, cipher.HeaderSize) { BufferPool = loop.BufferPool };
            _fecDecoder = new FecDecoder(options.DataShards, options.ParityShards) { BufferPool = loop.BufferPool };
        }

        _prefix = cipher.HeaderSize + (fec ? FecPacket.HeaderSizePlusSize : 0);
        _kcp = new KcpControlBlock(conv, this)
        {
            BufferPool = loop.BufferPool,
            ReservedBytes = _prefix + cipher.TrailerSize,
            StreamMode = options.StreamMode,
            DeadLink = options.DeadLink,
        };
        _reserved = _kcp.ReservedBytes;
        _kcp.SetMtu(options.Mtu);
        var (nodelay, interval, resend, nc) = options.EffectiveNoDelay();
        _kcp.SetNoDelay(nodelay, interval, resend, nc);
        _kcp.SetWindowSize(options.SendWindow, options.ReceiveWindow);
        _sendLimit = options.SendWindow;
        _maxChunk = Math.Max(1, options.Mtu - 24 - _prefix - cipher.TrailerSize) * 64;

        _onOutputReady = () => Schedule(WorkOutputReady);
        _onInputResumed = () => Schedule(WorkInputResumed);
    }

    public uint Conv { get; }

    public UdpAddressKey Key { get; }

    public KcpOptions Options { get; }

    /// <summary>The AEAD replay window of this peer (null for ciphers without one).</summary>
    public ReplayWindow? ReplayWindow { get; init; }

    public KcpConnection? Connection { get; private set; }

    public KcpCloseReason CloseReason => _closeReason;

    /// <summary>Bytes per second moved from the app into KCP at most (0: no cap). Any thread.</summary>
    public long SendRateLimit
    {
        get => _rateLimiter.Limit;
        set => _rateLimiter.Limit = value;
    }

    public bool IsEnded => _ended;

    /// <summary>Binds the session to its connection's pipes. Loop thread, once, before any datagram.</summary>
    public void Attach(KcpConnection connection)
    {
        Connection = connection;
        _appOutput = connection.Application.Input;
        _appInput = connection.Application.Output;
        _loop.Timers.Schedule(this, _now + 1);
        PumpOutput();
    }

    // ---- receive path (loop thread) ----

    /// <summary>A datagram for this session, already decrypted (cipher header removed).</summary>
    public void OnPacket(ReadOnlySpan<byte> payload, uint now)
    {
        if (_ended)
        {
            return;
        }

        _now = now;
        _lastReceive = now;
        if (_fecDecoder is not null)
        {
            var sink = new FecSink(this);
            var result = _fecDecoder.Decode(payload, now, ref sink);
            if (result == FecDecodeResult.Recovered)
            {
                _counters.FecRecovered++;
                _fecRecovered++;
            }
            else if (result >= FecDecodeResult.Truncated)
            {
                _counters.DroppedFec++;
            }
        }
        else
        {
            InputKcp(payload);
        }

        QueueDirty();
    }

    internal void InputKcp(ReadOnlySpan<byte> segment)
    {
        if (segment.Length == SegmentHeader.Size && segment[4] == CloseCommand
            && BinaryPrimitives.ReadUInt32LittleEndian(segment) == Conv)
        {
            OnRemoteClose();
            return;
        }

        var result = _kcp.Input(segment, _now, ackNoDelay: true);
        if (result != KcpInputResult.Ok)
        {
            _counters.KcpInputErrors++;
        }
    }

    private void OnRemoteClose()
    {
        // The peer closes only once all it sent was acknowledged, so every byte is already here.
        DrainReceive();
        End(KcpCloseReason.RemoteClose, sendClose: false);
    }

    // ---- KCP output (loop thread): KCP bytes → FEC → cipher → UDP batch ----

    public void Output(Span<byte> buffer)
    {
        if (_channel.IsDisposed)
        {
            // The listener or client shut down under us: nothing can leave any more.
            return;
        }

        var kcpBytes = buffer[_reserved..];
        var slot = _channel.BeginSend();
        kcpBytes.CopyTo(slot[_prefix..]);
        var length = _prefix + kcpBytes.Length;
        if (_fecEncoder is not null)
        {
            var parity = _fecEncoder.Encode(slot, length, _now);
            Seal(slot, length);
            for (var i = 0; i < parity; i++)
            {
                var packet = _fecEncoder.GetParityPacket(i, out var parityLength);
                var paritySlot = _channel.BeginSend();
                packet[..parityLength].CopyTo(paritySlot);
                Seal(paritySlot, parityLength);
            }
        }
        else
        {
            Seal(slot, length);
        }
    }

    private void Seal(Span<byte> slot, int length)
    {
        var total = _cipher.Seal(slot, length - _cipher.HeaderSize);
        _channel.CommitSend(total, _sockaddr);
    }

    /// <summary>Sends one bare segment (close signal, window probe) through FEC and cipher like any other.</summary>
    internal void SendControl(byte cmd)
    {
        Span<byte> buffer = stackalloc byte[_reserved + SegmentHeader.Size];
        new SegmentHeader(Conv, (KcpCommand)cmd, 0, (ushort)Math.Min(Options.ReceiveWindow, ushort.MaxValue), _now, 0, 0, 0)
            .Write(buffer[_reserved..]);
        Output(buffer);
    }

    // ---- the loop's turn ----

    public void FlushDirty(uint now)
    {
        _dirtyQueued = false;
        if (_ended)
        {
            return;
        }

        _now = now;
        DrainReceive();
        PumpOutput();
        _kcp.FlushAt(now);
        AfterActivity(now);
    }

    public override void OnTimer(uint now)
    {
        if (_ended)
        {
            Linger(now);
            return;
        }

        _now = now;
        _kcp.Update(now);
        if (_kcp.IsDeadLink)
        {
            End(KcpCloseReason.DeadLink, sendClose: false);
            return;
        }

        if ((int)(now - _lastReceive) >= (int)_idleTimeoutMs)
        {
            End(KcpCloseReason.IdleTimeout, sendClose: true);
            return;
        }

        DrainReceive();
        PumpOutput();
        AfterActivity(now);
    }

    private void AfterActivity(uint now)
    {
        if (_ended)
        {
            return;
        }

        if (_outputCompleted && _kcp.WaitSnd == 0)
        {
            // Every byte we sent is acknowledged: the graceful close can finish.
            End(KcpCloseReason.LocalClose, sendClose: true);
            return;
        }

        if (_outputCompleted && (int)(now - _closingSince) > (int)CloseLingerMs)
        {
            End(KcpCloseReason.DeadLink, sendClose: true);
            return;
        }

        UpdateStatistics();

        // An idle session (nothing queued or in flight) needs no KCP tick: it wakes on the next
        // datagram or app write, or when the idle deadline comes. This keeps thousands of quiet
        // sessions from costing a wake-up every interval.
        uint due;
        if (_rateBlocked)
        {
            due = now + _rateLimiter.RefillMs();
            if (_kcp.WaitSnd > 0)
            {
                var check = _kcp.Check(now);
                if ((int)(check - due) < 0)
                {
                    due = check;
                }
            }
        }
        else if (_kcp.WaitSnd == 0)
        {
            var idleLeft = _idleTimeoutMs - (now - _lastReceive);
            due = now + Math.Clamp(idleLeft, 1u, 1000u);
        }
        else
        {
            due = _kcp.Check(now);
        }

        _loop.Timers.Schedule(this, due);
    }

    private void QueueDirty()
    {
        if (!_dirtyQueued)
        {
            _dirtyQueued = true;
            _loop.MarkDirty(this);
        }
    }

    // ---- KCP → app (loop thread) ----

    private void DrainReceive()
    {
        if (_inputCompleted)
        {
            // Nobody reads any more: discard, so KCP's window stays open and the peer is not stalled.
            Span<byte> sink = stackalloc byte[2048];
            while (_kcp.PeekSize() is > 0 and <= 2048)
            {
                _ = _kcp.Receive(sink);
            }

            return;
        }

        if (_inputPaused || _appInput is null)
        {
            return;
        }

        var writer = _appInput;
        var any = false;
        while (true)
        {
            var size = _kcp.PeekSize();
            if (size <= 0)
            {
                break;
            }

            var span = writer.GetSpan(size);
            var n = _kcp.Receive(span);
            if (n <= 0)
            {
                break;
            }

            writer.Advance(n);
            _bytesReceived += n;
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
                _inputCompleted = true;
            }

            return;
        }

        // The app is behind: stop draining KCP, so its receive window closes and the peer waits.
        _inputPaused = true;
        _pendingFlush = flush;
        flush.GetAwaiter().UnsafeOnCompleted(_onInputResumed);
    }

    private void OnInputResumed()
    {
        _inputPaused = false;
        try
        {
            // Runs from the flush's completion callback: the ValueTask is complete here.
#pragma warning disable CA2012
            if (_pendingFlush.Result.IsCompleted)
#pragma warning restore CA2012
            {
                _inputCompleted = true;
            }
        }
        catch (InvalidOperationException)
        {
            _inputCompleted = true;
        }

        _pendingFlush = default;
        QueueDirty();
    }

    // ---- app → KCP (loop thread) ----

    private void PumpOutput()
    {
        _rateBlocked = false;
        if (_appOutput is null || _outputCompleted || _readInFlight || _ended)
        {
            return;
        }

        while (_kcp.WaitSnd < _sendLimit)
        {
            // Kept in a field and consumed exactly once, by the completion callback, when it does not complete now.
#pragma warning disable CA2012
            var read = _appOutput.ReadAsync();
#pragma warning restore CA2012
            if (!read.IsCompleted)
            {
                _readInFlight = true;
                _pendingRead = read;
                read.GetAwaiter().UnsafeOnCompleted(_onOutputReady);
                return;
            }

            if (!Consume(read.Result))
            {
                return;
            }
        }
    }

    private void OnOutputReady()
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
            return;
        }

        _pendingRead = default;
        if (_ended)
        {
            // The session ended while the read waited (End cancelled it): release the app's writer.
            _appOutput!.AdvanceTo(result.Buffer.End);
            _appOutput.Complete();
            return;
        }

        if (Consume(result))
        {
            PumpOutput();
        }

        QueueDirty();
    }

    /// <summary>Moves bytes from the app into KCP while the send window has room; false when the output is done.</summary>
    private bool Consume(ReadResult result)
    {
        var buffer = result.Buffer;
        var consumed = buffer.Start;
        foreach (var memory in buffer)
        {
            var span = memory.Span;
            while (!span.IsEmpty && _kcp.WaitSnd < _sendLimit)
            {
                var chunk = span.Length > _maxChunk ? span[.._maxChunk] : span;
                var allowance = _rateLimiter.Allowance(_now);
                if (allowance <= 0)
                {
                    // Paced before KCP rather than after: what KCP holds is only what the cap let
                    // through, so its window and retransmissions are not fighting a second queue.
                    _rateBlocked = true;
                    break;
                }

                if (chunk.Length > allowance)
                {
                    chunk = chunk[..allowance];
                }

                var n = _kcp.Send(chunk);
                if (n < 0)
                {
                    break;
                }

                _rateLimiter.Charge(chunk.Length);
                _bytesSent += chunk.Length;
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
        _appOutput!.AdvanceTo(consumed, all ? buffer.End : consumed);
        if (result.IsCompleted && all)
        {
            _outputCompleted = true;
            _closingSince = _now;
            _appOutput.Complete();
            return false;
        }

        return !_rateBlocked && (all || _kcp.WaitSnd < _sendLimit);
    }

    // ---- requests from other threads ----

    public void RequestAbort(ConnectionAbortedException reason)
    {
        _abortReason = reason;
        Schedule(WorkAbort);
    }

    public void RequestDispose() => Schedule(WorkDispose);

    private void Schedule(int work)
    {
        int before;
        do
        {
            before = Volatile.Read(ref _pendingWork);
        }
        while (Interlocked.CompareExchange(ref _pendingWork, before | work, before) != before);

        if (before == 0)
        {
            _loop.Post(this);
        }
    }

    public void Execute(KcpIoLoop loop, uint now)
    {
        var work = Interlocked.Exchange(ref _pendingWork, 0);
        _now = now;
        if ((work & WorkOutputReady) != 0)
        {
            OnOutputReady();
        }

        if ((work & WorkInputResumed) != 0)
        {
            OnInputResumed();
        }

        if ((work & WorkAbort) != 0 && !_ended)
        {
            End(KcpCloseReason.Aborted, sendClose: true);
        }

        if ((work & WorkDispose) != 0)
        {
            _disposeRequested = true;

            // Kestrel is done with the connection and has completed its output: what is still
            // unsent drains, then the graceful close finishes. An ended session releases its engine
            // now, or when it has finished repeating its close signal.
            if (_ended)
            {
                if (_lingerLeft == 0)
                {
                    Release();
                }
            }
            else
            {
                QueueDirty();
            }
        }
    }

    /// <summary>Ends the session: tells the peer (best effort), completes the pipes, leaves the tables.</summary>
    public void End(KcpCloseReason reason, bool sendClose)
    {
        if (_ended)
        {
            return;
        }

        _ended = true;
        _closeReason = reason;
        _loop.Timers.Remove(this);
        if (sendClose && !_closeSent)
        {
            // The close signal is one unacknowledged datagram: repeat it a few times, an RTO
            // apart, so a lossy link rarely leaves the peer waiting for its idle timeout.
            _closeSent = true;
            SendControl(CloseCommand);
            _lingerLeft = CloseRepeats;
            _loop.Timers.Schedule(this, _now + LingerInterval());
        }

        UpdateStatistics();

        Exception? error = reason == KcpCloseReason.Aborted ? _abortReason : null;
        _appInput?.Complete(error);
        if (_readInFlight)
        {
            // Completing a reader under a pending read is not allowed: wake it, and finish there.
            _appOutput?.CancelPendingRead();
        }
        else if (!_outputCompleted)
        {
            _appOutput?.Complete();
        }

        _counters.SessionsClosed++;
        var figures = _kcp.Statistics;
        _counters.SegmentsReceived += (long)figures.SegmentsIn;
        _counters.SegmentsSent += (long)figures.SegmentsOut;
        if (_fecDecoder is not null)
        {
            _counters.FecParityShardsReceived += _fecDecoder.ParityShardsReceived;
            _counters.FecShortGroups += _fecDecoder.ShortGroups;
            _counters.FecFailedReconstructs += _fecDecoder.FailedReconstructs;
        }

        _owner.OnSessionEnded(this);
        Connection?.SignalClosed();
        if (_lingerLeft == 0)
        {
            _owner.OnSessionReleased(this);
            if (_disposeRequested || Connection is null)
            {
                Release();
            }
        }
    }

    private uint LingerInterval() => (uint)Math.Clamp(_kcp.Statistics.Rto, 20u, 500u);

    private void Linger(uint now)
    {
        if (_lingerLeft <= 0)
        {
            return;
        }

        if (_channel.IsDisposed)
        {
            _lingerLeft = 1;
        }

        _now = now;
        if (!_channel.IsDisposed)
        {
            SendControl(CloseCommand);
        }

        if (--_lingerLeft > 0)
        {
            _loop.Timers.Schedule(this, now + LingerInterval());
            return;
        }

        _owner.OnSessionReleased(this);
        if (_disposeRequested || Connection is null)
        {
            Release();
        }
    }

    /// <summary>Releases the engine's pooled buffers. Loop thread, after the session ended.</summary>
    public void Dispose()
    {
        _disposeRequested = true;
        if (_lingerLeft == 0)
        {
            Release();
        }
    }

    private void Release()
    {
        if (_released)
        {
            return;
        }

        _released = true;
        _kcp.Dispose();
        _fecEncoder?.Dispose();
        _fecDecoder?.Dispose();
    }

    // ---- statistics ----

    public KcpSessionStatistics GetStatistics()
    {
        lock (_statsLock)
        {
            return _stats;
        }
    }

    private void UpdateStatistics()
    {
        var s = _kcp.Statistics;
        var snapshot = new KcpSessionStatistics
        {
            SmoothedRtt = s.Srtt,
            RttVariance = s.RttVar,
            Rto = (int)s.Rto,
            CongestionWindow = (int)s.Cwnd,
            InFlight = (int)s.InFlight,
            SendQueue = s.SendQueueLength,
            ReceiveQueue = s.ReceiveQueueLength,
            RemoteWindow = _kcp.RemoteWindow,
            FastRetransmits = (long)s.FastRetransmits,
            EarlyRetransmits = (long)s.EarlyRetransmits,
            TimeoutRetransmits = (long)s.TimeoutRetransmits,
            LostSegments = (long)s.LostSegments,
            DuplicateSegments = (long)s.DuplicateSegments,
            FecRecovered = _fecRecovered,
            BytesReceived = _bytesReceived,
            BytesSent = _bytesSent,
        };
        lock (_statsLock)
        {
            _stats = snapshot;
        }
    }

    private readonly struct FecSink(KcpSession session) : IFecSink
    {
        public void OnKcpPayload(ReadOnlySpan<byte> kcpBytes) => session.InputKcp(kcpBytes);
    }
}
