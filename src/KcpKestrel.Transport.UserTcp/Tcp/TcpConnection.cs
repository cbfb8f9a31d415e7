using KcpKestrel.Shared;

namespace KcpKestrel.Transport.UserTcp.Tcp;

/// <summary>
/// One TCP connection (RFC 9293): its state machine, send and receive buffers, RTO, congestion control and timers,
/// driven only by segments, app calls and its timer on the loop thread. Pure: time comes in as the loop's ms clock,
/// segments leave through <see cref="ITcpConnectionOwner.Output"/>, and the connection itself is its one timer-wheel
/// entry. The parts live in partial files by job: this one holds the state and the app's calls,
/// <c>TcpConnection.Input.cs</c> segment arrival, <c>TcpConnection.Output.cs</c> what goes out,
/// <c>TcpConnection.Timers.cs</c> the deadlines.
/// </summary>
internal sealed partial class TcpConnection : TimerWheelEntry
{
    /// <summary>The smallest send MSS accepted from a peer: RFC 9293 §3.7.1's IPv4 default. A smaller one only multiplies the per-byte work (a hostile peer's lever).</summary>
    internal const int MinPeerMss = 536;

    /// <summary>The least time between two ACKs answering unacceptable data-less segments of one connection (Linux: 500 ms).</summary>
    internal const int OutOfWindowAckIntervalMs = 500;

    // Sequence variables (RFC 9293 §3.3.1). SND.MAX is the highest ever sent (go-back-N after an RTO lowers SND.NXT).
    private uint _iss;
    private uint _irs;
    private uint _sndUna;
    private uint _sndNxt;
    private uint _sndMax;
    private uint _lastOutOfWindowAck;
    private bool _outOfWindowAckSent;
    private uint _sndWl1;
    private uint _sndWl2;
    private uint _sndBufSeq;
    private uint _rcvNxt;
    private uint _rcvAdvEdge;
    private uint _highRxt;
    private uint _peerFinSeq;
    private int _sndWnd;
    private int _maxSndWnd;
    private ushort _sndMss;
    private byte _sndWscale;
    private byte _rcvWscale;

    // Timestamps (RFC 7323 §3-5).
    private uint _tsOffset;
    private uint _tsRecent;
    private uint _lastAckSent;

    // RTT timing without timestamps (Karn: only segments never retransmitted).
    private uint _rttSeq;
    private uint _rttStart;

    // Deadlines: see ConnectionTimers.
    private uint _rtoDue;
    private uint _ackDue;
    private uint _idleDue;
    private uint _rateDue;
    private uint _lastHeard;
    private uint _lastDataSent;
    private ConnectionTimers _timers;
    private byte _retries;
    private byte _persistProbes;
    private byte _keepAliveProbes;
    private byte _fullSegmentsUnacked;

    private bool _timestamps;
    private bool _sack;
    private bool _passive;
    private bool _rttTiming;
    private bool _finQueued;
    private bool _finReceived;
    private bool _peerFinPending;
    private bool _wantSendable;
    private bool _closedNotified;

    private SendBuffer _send;
    private ReceiveBuffer _receive;
    private SackScoreboard _scoreboard;
    private RttEstimator _rtt;
    private NewRenoCongestion _cc;
    private TokenBucket? _bucket;
    private long _rateLimit;

    private long _bytesSent;
    private long _bytesReceived;
    private long _segmentsSent;
    private long _segmentsReceived;
    private long _retransmits;

    public TcpConnection(ITcpConnectionOwner owner, in TcpFlowKey flow, TcpConnectionOptions options)
    {
        Owner = owner;
        Flow = flow;
        Options = options;
        _rateLimit = options.RateLimitBytesPerSecond;
    }

    public ITcpConnectionOwner Owner { get; }

    public TcpFlowKey Flow { get; }

    public TcpConnectionOptions Options { get; }

    public TcpState State { get; private set; }

    /// <summary>The connection's user; set by the acceptor or the active opener.</summary>
    public ITcpConnectionEvents? Events { get; set; }

    /// <summary>Bytes readable now.</summary>
    public int ReceivableBytes => _receive.Readable;

    /// <summary>The peer's FIN arrived and every byte before it was read.</summary>
    public bool IsReceiveComplete => _finReceived && _receive.Readable == 0;

    /// <summary>Room left in the send buffer (0 once shut down or closed).</summary>
    public int SendableBytes => CanQueue ? Options.SendBufferSize - _send.Count : 0;

    /// <summary>Per-stream rate limit in bytes per second (0: none); composes with the congestion window.</summary>
    public long RateLimitBytesPerSecond
    {
        get => _rateLimit;
        set
        {
            _rateLimit = Math.Max(0, value);
            if (_rateLimit == 0)
            {
                _bucket = null;
            }
            else if (_bucket is not null)
            {
                _bucket.PerSecond = _rateLimit;
                _bucket.Capacity = BurstFor(_rateLimit);
            }
        }
    }

    /// <summary>The window-scale shift this side announces for a receive buffer (RFC 7323 §2.3); the stack's SYN-cookie SYN-ACK must use the same.</summary>
    public static byte ReceiveWindowScale(TcpConnectionOptions options)
    {
        if (!options.WindowScaling)
        {
            return 0;
        }

        byte shift = 0;
        while (shift < 14 && (options.ReceiveBufferSize >> shift) > ushort.MaxValue)
        {
            shift++;
        }

        return shift;
    }

    private bool CanQueue => !_finQueued && State is TcpState.SynSent or TcpState.SynReceived or TcpState.Established or TcpState.CloseWait;

    private int Flight => (int)(_sndMax - _sndUna);

    /// <summary>Payload bytes per full segment: the send MSS less the timestamps option (as Linux counts it).</summary>
    private int SegmentPayload => _sndMss - (_timestamps ? 12 : 0);

    /// <summary>From a SYN to a listening port: sends SYN-ACK with <paramref name="iss"/> (SYN-RECEIVED).</summary>
    public void OpenPassive(in TcpHeader syn, uint iss, uint now)
    {
        _passive = true; // the stack counts opens (it decides them)
        InitializeSend(iss, now);
        TakePeerSyn(syn, offered: true);
        State = TcpState.SynReceived;
        SendSyn(now);
        ArmRetransmit(now);
        UpdateTimer();
    }

    /// <summary>
    /// From the ACK that completes a SYN-cookie handshake: straight to ESTABLISHED with what the cookie encoded
    /// (<paramref name="mss"/>, the peer's window scale or -1, SACK-permitted) and <paramref name="iss"/>.
    /// Timestamps are on when the ACK carries them (the peer sends them only if both SYNs did).
    /// </summary>
    public void OpenFromCookie(in TcpHeader ack, uint iss, ushort mss, int peerWindowScale, bool sackPermitted, ReadOnlySpan<byte> payload, uint now)
    {
        _passive = true; // the stack counts opens (it decides them)
        InitializeSend(iss, now);
        _sndUna = _sndNxt;
        _rttTiming = false; // the handshake's RTT is unknown (the SYN-ACK left no state behind)
        _irs = ack.Seq - 1;
        _rcvNxt = ack.Seq;
        _rcvAdvEdge = _rcvNxt;
        _sndMss = ClampPeerMss(mss);
        _sack = Options.Sack && sackPermitted;
        _timestamps = Options.Timestamps && ack.Options.HasTimestamps;
        if (Options.WindowScaling && peerWindowScale >= 0)
        {
            _sndWscale = (byte)Math.Min(peerWindowScale, 14);
            _rcvWscale = ReceiveWindowScale(Options);
        }

        if (_timestamps)
        {
            _tsRecent = ack.Options.TsVal;

            // Continue the clock the stack's cookie SYN-ACK used (the ACK echoes it), whatever its offset was: our
            // TSvals must never go below it, or the peer's PAWS would drop everything we send.
            _tsOffset = ack.Options.TsEcr - now;
        }

        _sndWl1 = ack.Seq;
        _sndWl2 = ack.Ack;
        _sndWnd = ack.Window << _sndWscale;
        _maxSndWnd = _sndWnd;
        Establish(now);
        if (State == TcpState.Established && !payload.IsEmpty)
        {
            OnSegment(ack, payload, now);
            return;
        }

        UpdateTimer();
    }

    /// <summary>Active open: sends SYN with <paramref name="iss"/> (SYN-SENT).</summary>
    public void OpenActive(uint iss, uint now)
    {
        InitializeSend(iss, now);
        _rcvWscale = ReceiveWindowScale(Options);
        State = TcpState.SynSent;
        SendSyn(now);
        ArmRetransmit(now);
        UpdateTimer();
    }

    /// <summary>Copies readable bytes out; may send a window update. Returns the count (0: none now).</summary>
    public int Receive(Span<byte> destination, uint now)
    {
        var n = _receive.Read(destination, Options.ReceiveBufferSize, Options.BufferPool);
        if (n > 0 && State is not (TcpState.Closed or TcpState.TimeWait) && WindowUpdateDue())
        {
            SendAck(now);
            UpdateTimer();
        }

        return n;
    }

    /// <summary>Queues bytes to send (Nagle off: sent at once as window and rate allow); returns how many were taken.</summary>
    public int Send(ReadOnlySpan<byte> data, uint now)
    {
        if (!CanQueue || data.IsEmpty)
        {
            return 0;
        }

        var n = _send.Write(data, Options.SendBufferSize, Options.BufferPool);
        if (n < data.Length)
        {
            _wantSendable = true;
        }

        if (n > 0)
        {
            Transmit(now);
            UpdateTimer();
        }

        return n;
    }

    /// <summary>Half-close: FIN after everything queued (CLOSE in ESTABLISHED or CLOSE-WAIT).</summary>
    public void Shutdown(uint now)
    {
        switch (State)
        {
            case TcpState.SynSent:
                // RFC 9293 §3.10.4: CLOSE in SYN-SENT deletes the TCB; nothing was said yet.
                Terminate(TcpCloseReason.Closed, notify: true);
                return;
            case TcpState.SynReceived:
                _finQueued = true; // sent once ESTABLISHED (Establish moves to FIN-WAIT-1)
                return;
            case TcpState.Established:
                _finQueued = true;
                State = TcpState.FinWait1;
                break;
            case TcpState.CloseWait:
                _finQueued = true;
                State = TcpState.LastAck;
                break;
            default:
                return;
        }

        Transmit(now);
        UpdateTimer();
    }

    /// <summary>Abort: RST, then CLOSED at once.</summary>
    public void Abort(uint now)
    {
        if (State == TcpState.Closed)
        {
            return;
        }

        if (State is not (TcpState.SynSent or TcpState.TimeWait))
        {
            SendReset(_sndNxt, _rcvNxt, withAck: true);
        }

        Terminate(TcpCloseReason.Aborted, notify: true);
    }

    /// <summary>A snapshot of the connection's figures (srtt, rto, cwnd, bytes, retransmits) for the meter and features.</summary>
    public TcpConnectionStatistics GetStatistics() => new(
        State,
        _rtt.SmoothedRttMs,
        _rtt.RttVarianceMs,
        _rtt.RtoMs,
        _cc.Cwnd,
        _cc.Ssthresh,
        _sndWnd,
        _sndMss,
        _bytesSent,
        _bytesReceived,
        _segmentsSent,
        _segmentsReceived,
        _retransmits,
        Flight);

    /// <summary>Whether the send or receive ring holds an array now (an idle connection should hold none).</summary>
    internal bool HoldsBuffers => _send.HasBuffer || _receive.HasBuffer;

    private static int BurstFor(long rate) => (int)Math.Clamp(rate / 50, 4 * 1460, 1 << 20); // 20 ms of rate

    private ushort ClampPeerMss(int peerMss)
    {
        if (peerMss == 0)
        {
            peerMss = MinPeerMss; // RFC 9293 §3.7.1: no option means the default
        }

        var floor = Math.Min(MinPeerMss, (int)Options.Mss);
        return (ushort)Math.Clamp(peerMss, floor, Options.Mss);
    }

    private void InitializeSend(uint iss, uint now)
    {
        _iss = iss;
        _sndUna = iss;
        _sndNxt = iss + 1;
        _sndMax = _sndNxt;
        _sndBufSeq = iss + 1;
        _highRxt = _sndNxt;
        // RFC 7323 §5.4: a TSval offset per 4-tuple, from the flow's per-process randomized hash, so it cannot be
        // guessed yet stays monotonic across incarnations of one 4-tuple (what TIME-WAIT reuse compares).
        _tsOffset = (uint)Flow.GetHashCode();
        _sndMss = ClampPeerMss(MinPeerMss);
        _lastHeard = now;
        _rttTiming = true;
        _rttSeq = iss;
        _rttStart = now;
    }

    /// <summary>Reads the peer's SYN: IRS, MSS and what the options negotiate (offered: what our SYN offered or will).</summary>
    private void TakePeerSyn(in TcpHeader syn, bool offered)
    {
        _irs = syn.Seq;
        _rcvNxt = syn.Seq + 1;
        _rcvAdvEdge = _rcvNxt;
        _lastAckSent = _rcvNxt;
        _sndMss = ClampPeerMss(syn.Options.Mss);
        _sack = offered && Options.Sack && syn.Options.SackPermitted;
        _timestamps = offered && Options.Timestamps && syn.Options.HasTimestamps;
        if (_timestamps)
        {
            _tsRecent = syn.Options.TsVal;
        }

        if (offered && Options.WindowScaling && syn.Options.HasWindowScale)
        {
            _sndWscale = Math.Min(syn.Options.WindowScale, (byte)14);
            _rcvWscale = ReceiveWindowScale(Options);
        }
        else
        {
            _sndWscale = 0;
            _rcvWscale = 0;
        }

        _sndWnd = syn.Window; // a SYN's window is never scaled (RFC 7323 §2.2)
        _maxSndWnd = _sndWnd;
        _sndWl1 = syn.Seq;
    }

    /// <summary>The handshake completed: ESTABLISHED, hand the connection to its user.</summary>
    private void Establish(uint now)
    {
        State = TcpState.Established;
        Owner.Counters.Established++;
        _cc.Start(SegmentPayload);
        _cc.Recover = _iss;
        _retries = 0;
        if (_sndUna == _sndNxt)
        {
            _timers &= ~ConnectionTimers.Retransmit;
        }

        ArmKeepAlive(now);
        if (_passive)
        {
            if (!Owner.OnPassiveEstablished(this))
            {
                // Refused (accept queue full): reset, as Linux does with tcp_abort_on_overflow.
                SendReset(_sndNxt, _rcvNxt, withAck: true);
                Terminate(TcpCloseReason.Aborted, notify: false);
                return;
            }
        }
        else
        {
            Events?.OnEstablished(this);
        }

        if (_finQueued && State == TcpState.Established)
        {
            State = TcpState.FinWait1;
        }
    }

    private void EnterTimeWait(uint now)
    {
        State = TcpState.TimeWait;
        _timers = ConnectionTimers.TimeWait;
        _idleDue = now + (uint)Options.TimeWaitMs;
        _send.Release(Options.BufferPool);
        Notify(TcpCloseReason.Closed);
    }

    /// <summary>Tells the user once how the connection ended.</summary>
    private void Notify(TcpCloseReason reason)
    {
        if (_closedNotified)
        {
            return;
        }

        _closedNotified = true;
        var counters = Owner.Counters;
        switch (reason)
        {
            case TcpCloseReason.Closed: counters.ClosedNormally++; break;
            case TcpCloseReason.Aborted: counters.Aborted++; break;
            case TcpCloseReason.TimedOut: counters.TimedOut++; break;
            case TcpCloseReason.KeepAliveTimedOut: counters.KeepAliveTimedOut++; break;
            default: break;
        }

        Events?.OnClosed(this, reason);
    }

    /// <summary>CLOSED: timers off, buffers back to the pool, the user told (when <paramref name="notify"/>), the stack releases the flow.</summary>
    private void Terminate(TcpCloseReason reason, bool notify)
    {
        if (State == TcpState.Closed)
        {
            return;
        }

        State = TcpState.Closed;
        _timers = ConnectionTimers.None;
        Owner.Timers.Remove(this);
        _send.Release(Options.BufferPool);
        if (reason != TcpCloseReason.Closed)
        {
            _receive.Release(Options.BufferPool);
        }

        // After a graceful close the app may still drain what it has not read (Receive returns the ring to the
        // pool once empty); after anything else the bytes are void.
        if (notify)
        {
            Notify(reason);
        }
        else
        {
            _closedNotified = true;
        }

        Owner.OnReleased(this);
    }
}
