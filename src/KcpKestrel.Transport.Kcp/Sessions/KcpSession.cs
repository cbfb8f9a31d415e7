using KcpKestrel.Shared;
using System.Buffers.Binary;
using KcpKestrel.Core.Arq;
using KcpKestrel.Core.Crypto;
using KcpKestrel.Transport.Kcp.Connections;
using KcpKestrel.Transport.Kcp.Diagnostics;
using KcpKestrel.Transport.Kcp.Io.Datagrams;
using KcpKestrel.Transport.Kcp.Io.Loops;
using Microsoft.AspNetCore.Connections;

namespace KcpKestrel.Transport.Kcp.Sessions;

// The packet path through this type is drawn at the top of the transport, in KcpConnectionListenerFactory.cs.

/// <summary>
/// One KCP conversation on an I/O loop: the protocol stack (KCP, FEC, cipher) between a UDP
/// channel and a <see cref="KcpConnection"/>'s pipes. Everything but the <c>Request*</c> methods
/// and <see cref="GetStatistics"/> runs on the owning loop's thread, so KCP state needs no lock.
/// </summary>
internal sealed class KcpSession : TimerWheelEntry, IKcpOutput, IKcpConnectionSession, ILoopFlushable, ILoopWorkItem, IDisposable
{
    /// <summary>Our close signal's cmd. kcp-go rejects unknown commands (-3) and carries on, so it is harmless there.</summary>
    public const byte CloseCommand = 88;

    private readonly IKcpLoop _loop;
    private readonly KcpControlBlock _kcp;
    private readonly KcpDatagramOutput _output;
    private readonly KcpDatagramInput _input;
    private readonly KcpTransportCounters _counters;
    private readonly IKcpSessionOwner _owner;
    private readonly uint _idleTimeoutMs;
    private readonly SendRateLimiter _rateLimiter = new();
    private readonly AppOutputPump _appOutput;
    private readonly AppInputPump _appInput;
    private readonly SessionStatistics _stats = new();
    private readonly KcpSessionLifecycle _lifecycle = new();
    private readonly PeerAddressProof _proof;
    private readonly SessionReceiveMemory _memory;

    private SessionWork _work;
    private bool _dirtyQueued;
    private uint _now;
    private uint _lastReceive;
    private volatile ConnectionAbortedException? _abortReason;
    private KcpCloseReason _closeReason;

    public KcpSession(
        IKcpLoop loop,
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
        Key = key;
        Conv = conv;
        _owner = owner;
        _counters = loop.Counters;
        Options = options;
        _now = now;
        _lastReceive = now;
        _idleTimeoutMs = (uint)Math.Min(options.IdleTimeout.TotalMilliseconds, int.MaxValue);
        _proof = new PeerAddressProof(options);

        _memory = new SessionReceiveMemory(options.SessionReceiveBudget, loop.ReceiveMemory, _counters, () => End(KcpCloseReason.MemoryPressure, sendClose: true));
        _output = new KcpDatagramOutput(channel, sockaddr, cipher, options, loop.BufferPool, _proof.Budget, _counters);
        _input = new KcpDatagramInput(options, loop, _memory);
        _kcp = SessionEngine.Create(conv, this, options, loop.BufferPool, _output.Reserved, _memory, () => _proof.KcpTime(loop.Now));

        _appOutput = new AppOutputPump(_kcp, _rateLimiter, options.SendWindow, _output.MaxSegmentPayload, () => Schedule(SessionWorkKind.OutputReady));
        _appInput = new AppInputPump(_kcp, () => Schedule(SessionWorkKind.InputResumed));
    }

    public uint Conv { get; }

    public UdpAddressKey Key { get; private set; }

    public KcpOptions Options { get; }

    /// <summary>The AEAD replay window of this peer (null for ciphers without one).</summary>
    public ReplayWindow? ReplayWindow { get; init; }

    public KcpConnection? Connection { get; private set; }

    public KcpCloseReason CloseReason => _closeReason;

    /// <summary>Bytes this session holds for its peer (see <see cref="SessionReceiveMemory"/>). Loop thread.</summary>
    public long ReceiveHeld => _memory.Held;

    /// <summary>Bytes per second moved from the app into KCP at most (0: no cap). Any thread.</summary>
    public long SendRateLimit
    {
        get => _rateLimiter.Limit;
        set => _rateLimiter.Limit = value;
    }

    public KcpSessionState State => _lifecycle.State;

    /// <summary>Set by a listener for a session a stranger opened: its peer must prove its address (see <see cref="PeerAddressProof"/>).</summary>
    public bool RequiresAddressProof
    {
        get => !_proof.IsProven;
        init
        {
            if (value)
            {
                _proof.Require(_kcp, _appOutput, _output.Reserved);
            }
        }
    }

    public bool IsEnded => _lifecycle.IsEnded;

    /// <summary>The loop time the session last ran at (ms).</summary>
    public uint Now => _now;

    /// <summary>Binds the session to its connection's pipes. Loop thread, once, before any datagram.</summary>
    public void Attach(KcpConnection connection)
    {
        Connection = connection;
        _appOutput.Attach(connection.Application.Input);
        _appInput.Attach(connection, _memory);
        _loop.Timers.Schedule(this, _now + 1);
        PumpOutput();
    }

    // ---- receive path (loop thread) ----

    /// <summary>The session's control block (tests). Loop thread only.</summary>
    internal KcpControlBlock Kcp => _kcp;

    /// <summary>A datagram for this session, already decrypted (cipher header removed); <paramref name="wireBytes"/> as received.</summary>
    public void OnPacket(ReadOnlySpan<byte> payload, uint now, int wireBytes)
    {
        if (Arrived(now, wireBytes))
        {
            var sink = new SessionSegmentSink(this);
            _input.Receive(payload, now, ref sink);
            QueueDirty();
        }
    }

    /// <summary>
    /// KCP segments that came outside FEC (behind the token of a TOKEN datagram, see <see cref="AddressValidation"/>),
    /// already decrypted; <paramref name="wireBytes"/> as received.
    /// </summary>
    public void OnUnframedSegments(ReadOnlySpan<byte> segments, uint now, int wireBytes)
    {
        if (Arrived(now, wireBytes))
        {
            if (segments.Length >= SegmentHeader.Size)
            {
                InputKcp(segments);
            }

            QueueDirty();
        }
    }

    /// <summary>A datagram of <paramref name="wireBytes"/> came from the peer; false once the session has ended.</summary>
    private bool Arrived(uint now, int wireBytes)
    {
        if (IsEnded)
        {
            return false;
        }

        _now = now;
        _lastReceive = now;
        _proof.Budget.OnReceived(wireBytes);
        return true;
    }

    internal void InputKcp(ReadOnlySpan<byte> segment, bool regular = true)
    {
        if (segment.Length == SegmentHeader.Size && segment[4] == CloseCommand
            && BinaryPrimitives.ReadUInt32LittleEndian(segment) == Conv)
        {
            // The peer closes only once all it sent was acknowledged, so every byte is already here.
            _appInput.Drain();
            End(KcpCloseReason.RemoteClose, sendClose: false);
            return;
        }

        var result = _kcp.Input(segment, _proof.KcpTime(_now), ackNoDelay: true, regular);
        if (result != KcpInputResult.Ok)
        {
            _counters.KcpInputErrors++;
        }

        if (_proof.TryProve(_kcp, _appOutput))
        {
            _counters.SessionsValidated++;
            if (_proof.DeferredEnd != KcpCloseReason.None)
            {
                End(_proof.DeferredEnd, sendClose: true);
                return;
            }
        }

        if (_kcp.TryTakeTellEcho(out var echo))
        {
            _output.SendSegment(echo, _now);
        }
    }

    // ---- send path (loop thread) ----

    /// <summary>KCP's output: segments after the reserved room, on to FEC, cipher and the send batch.</summary>
    public void Output(Span<byte> buffer) => _output.Send(buffer[_output.Reserved..], _now);

    /// <summary>Sends one bare segment (close signal, window probe) through FEC and cipher like any other.</summary>
    internal void SendControl(byte cmd) =>
        _output.SendControl(Conv, cmd, (ushort)Math.Min(Options.ReceiveWindow, ushort.MaxValue), _proof.KcpTime(_now));

    /// <summary>
    /// Our dial probe in a mode with address validation: a TOKEN datagram carrying <paramref name="token"/>
    /// (empty: none yet, zeros that pad the probe so the server's RETRY fits in its size) and a WASK.
    /// </summary>
    internal void SendTokenProbe(ReadOnlySpan<byte> token)
    {
        Span<byte> body = stackalloc byte[AddressValidation.TokenProbeSize];
        AddressValidation.WriteTokenProbe(body, Conv, (ushort)Math.Min(Options.ReceiveWindow, ushort.MaxValue), _proof.KcpTime(_now), token);
        _output.SendUnframed(body);
    }

    /// <summary>Sends <paramref name="body"/> sealed, outside FEC (a path-check answer, see <see cref="PathValidation"/>).</summary>
    internal void SendUnframed(ReadOnlySpan<byte> body) => _output.SendUnframed(body);

    /// <summary>The peer proved its new address (see <see cref="SessionMigration"/>): everything goes there from now on.</summary>
    internal void MoveTo(UdpAddressKey key, ReadOnlySpan<byte> sockaddr)
    {
        Key = key;
        _output.MoveTo(sockaddr);
        Connection?.RemoteEndPoint = key.ToIPEndPoint();
    }

    // ---- the loop's turn ----

    public void FlushDirty(uint now)
    {
        _dirtyQueued = false;
        if (IsEnded)
        {
            return;
        }

        _now = now;
        _appInput.Drain();
        if (_work.IsPending)
        {
            // An app running inline (UnsafePreferInlineScheduling) answered during the drain: take its reply into
            // this flush, so it leaves with the ACKs in one datagram instead of a turn later in a second one.
            RunWork(now);
            if (IsEnded)
            {
                return;
            }
        }

        PumpOutput();
        _kcp.FlushAt(_proof.KcpTime(now));
        AfterActivity(now);
    }

    public override void OnTimer(uint now)
    {
        if (IsEnded)
        {
            Linger(now);
            return;
        }

        _now = now;
        if (_proof.DeferredEndDue(now))
        {
            End(_proof.DeferredEnd, sendClose: false);
            return;
        }

        _kcp.Update(_proof.KcpTime(now));
        if (_kcp.IsDeadLink)
        {
            End(KcpCloseReason.DeadLink, sendClose: false);
            return;
        }

        if ((int)(now - _lastReceive) >= (int)_proof.IdleTimeoutMs(_idleTimeoutMs))
        {
            if (!_proof.IsProven)
            {
                _counters.UnprovenTimeouts++;
            }

            End(KcpCloseReason.IdleTimeout, sendClose: true);
            return;
        }

        _appInput.Drain();
        PumpOutput();
        AfterActivity(now);
    }

    private void AfterActivity(uint now)
    {
        if (IsEnded)
        {
            return;
        }

        if (_lifecycle.State == KcpSessionState.Draining && _kcp.WaitSnd == 0)
        {
            // Every byte we sent is acknowledged: the graceful close can finish.
            End(KcpCloseReason.LocalClose, sendClose: true);
            return;
        }

        if (_lifecycle.DrainTimedOut(now))
        {
            End(KcpCloseReason.DeadLink, sendClose: true);
            return;
        }

        UpdateStatistics();
        _loop.Timers.Schedule(this, NextDue(now));
    }

    private uint NextDue(uint now) => SessionSchedule.NextDue(
        now,
        _appOutput.RateBlocked ? _rateLimiter.RefillMs() : null,
        _kcp.WaitSnd > 0 ? KcpCheck(now) : null,
        _proof.IdleTimeoutMs(_idleTimeoutMs) - (now - _lastReceive),
        _proof.UnprovenDeadline(_lastReceive));

    private void QueueDirty()
    {
        if (!_dirtyQueued)
        {
            _dirtyQueued = true;
            _loop.MarkDirty(this);
        }
    }

    private void PumpOutput()
    {
        if (_appOutput.Pump(_now))
        {
            _lifecycle.OnOutputCompleted(_now);
        }
    }

    // ---- requests from other threads ----

    public void RequestAbort(ConnectionAbortedException reason)
    {
        _abortReason = reason;
        Schedule(SessionWorkKind.Abort);
    }

    public void RequestDispose() => Schedule(SessionWorkKind.Dispose);

    private void Schedule(SessionWorkKind work)
    {
        if (_work.Add(work))
        {
            _loop.Post(this);
        }
    }

    public void Execute(KcpIoLoop loop, uint now) => RunWork(now);

    /// <summary>Runs what other threads asked for. Loop thread.</summary>
    internal void RunWork(uint now)
    {
        var work = _work.TakeAll();
        _now = now;
        if ((work & SessionWorkKind.OutputReady) != 0)
        {
            if (_appOutput.OnReadReady(IsEnded, now))
            {
                _lifecycle.OnOutputCompleted(now);
            }

            if (!IsEnded)
            {
                QueueDirty();
            }
        }

        if ((work & SessionWorkKind.InputResumed) != 0)
        {
            _appInput.OnResumed();
            QueueDirty();
        }

        if ((work & SessionWorkKind.Abort) != 0 && !IsEnded)
        {
            End(KcpCloseReason.Aborted, sendClose: true);
        }

        if ((work & SessionWorkKind.Dispose) != 0)
        {
            // Kestrel is done: what is unsent drains, then the graceful close finishes; an ended session
            // releases its engine now, or once it has finished repeating its close signal.
            _lifecycle.RequestDispose();
            if (IsEnded)
            {
                Release();
            }
            else
            {
                QueueDirty();
            }
        }
    }

    // ---- closing (transitions in KcpSessionLifecycle) ----

    /// <summary>Ends the session: tells the peer (best effort), completes the pipes, leaves the tables.</summary>
    public void End(KcpCloseReason reason, bool sendClose)
    {
        if (sendClose && reason is KcpCloseReason.Aborted or KcpCloseReason.LocalClose && _proof.TryDeferEnd(reason, _now))
        {
            // An unproven peer gets no close signal: wait (briefly) for the proof, see PeerAddressProof.
            _loop.Timers.Schedule(this, NextDue(_now));
            return;
        }

        var (closeOnce, repeat) = _proof.CloseSignal(sendClose);
        if (!_lifecycle.End(repeat))
        {
            return;
        }

        _closeReason = reason;
        _loop.Timers.Remove(this);
        if (closeOnce)
        {
            SendControl(CloseCommand);
        }

        if (repeat)
        {
            // The close signal is one unacknowledged datagram: repeat it a few times, an RTO
            // apart, so a lossy link rarely leaves the peer waiting for its idle timeout.
            _loop.Timers.Schedule(this, _now + RepeatInterval());
        }

        UpdateStatistics();
        _memory.Close(_kcp, _input);

        Exception? error = reason == KcpCloseReason.Aborted ? _abortReason : null;
        _appInput.Complete(error);
        _appOutput.Stop();

        SessionStatistics.ReportEnded(_kcp, _counters);
        _input.ReportEnded();

        _owner.OnSessionEnded(this);
        Connection?.SignalClosed();
        if (_lifecycle.State == KcpSessionState.Ended)
        {
            OnSilent();
        }
    }

    private uint KcpCheck(uint now) => _proof.LoopTime(_kcp.Check(_proof.KcpTime(now)));

    private uint RepeatInterval() => KcpSessionLifecycle.RepeatInterval(_kcp.Statistics.Rto);

    /// <summary>Lingering: one more copy of the close signal, an RTO after the last.</summary>
    private void Linger(uint now)
    {
        if (_lifecycle.State != KcpSessionState.Lingering)
        {
            return;
        }

        if (_output.IsClosed)
        {
            _lifecycle.OnSocketGone();
        }

        _now = now;
        if (!_output.IsClosed)
        {
            SendControl(CloseCommand);
        }

        if (_lifecycle.OnRepeatSent())
        {
            _loop.Timers.Schedule(this, now + RepeatInterval());
            return;
        }

        OnSilent();
    }

    /// <summary>Ended and nothing more to send: the socket may go; the engine too once Kestrel is done with it.</summary>
    private void OnSilent()
    {
        _owner.OnSessionReleased(this);
        if (_lifecycle.DisposeRequested || Connection is null)
        {
            Release();
        }
    }

    /// <summary>Releases the engine's pooled buffers. Loop thread, after the session ended.</summary>
    public void Dispose()
    {
        _lifecycle.RequestDispose();
        Release();
    }

    /// <summary>Ended → Released: returns the engine's pooled buffers (not before the session is silent).</summary>
    private void Release()
    {
        if (!_lifecycle.TryRelease())
        {
            return;
        }

        _kcp.Dispose();
        _output.Dispose();
        _input.Dispose();
    }

    // ---- statistics ----

    public KcpSessionStatistics GetStatistics() => _stats.Get();

    private void UpdateStatistics() =>
        _stats.Update(_kcp, _input.FecRecovered, _appInput.BytesReceived, _appOutput.BytesSent);
}
