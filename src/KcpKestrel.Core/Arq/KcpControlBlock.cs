using System.Buffers;
using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using KcpKestrel.Core.Congestion;

namespace KcpKestrel.Core.Arq;

/// <summary>
/// One KCP conversation: the ARQ state machine of kcp-go 5.6.1's <c>KCP</c> (kcp.go), same wire bytes and
/// same decisions, without a clock of its own (the caller passes the current time in ms, a wrapping uint32)
/// and without allocations in steady state (segment payloads live in pooled arrays, queues are rings).
/// </summary>
/// <remarks>
/// Not thread-safe: a control block belongs to the one I/O loop that owns its session.
/// Differences from kcp-go, all invisible on the wire for well-behaved peers:
/// malformed datagrams are rejected whole before any state changes; forged segments (sn outside any window a
/// peer could use, acks for unsent sn, una beyond snd_nxt) are skipped and counted; a receive window that
/// reopens after being advertised as zero or small is announced at once with WINS; <see cref="Check"/> ignores
/// segments already acknowledged out of order.
/// </remarks>
internal sealed class KcpControlBlock : IDisposable
{
    public const int IKCP_RTO_NDL = 30;
    public const int IKCP_RTO_MIN = 100;
    public const int IKCP_RTO_DEF = 200;
    public const int IKCP_RTO_MAX = 60000;
    public const int IKCP_ASK_SEND = 1;
    public const int IKCP_ASK_TELL = 2;
    public const int IKCP_WND_SND = 32;
    public const int IKCP_WND_RCV = 32;
    public const int IKCP_MTU_DEF = 1400;
    public const int IKCP_OVERHEAD = SegmentHeader.Size;
    public const int IKCP_INTERVAL = 100;
    public const int IKCP_DEADLINK = 20;
    public const int IKCP_THRESH_INIT = 2;
    public const int IKCP_THRESH_MIN = 2;
    public const int IKCP_PROBE_INIT = 7000;
    public const int IKCP_PROBE_LIMIT = 120000;

    /// <summary>Most fragments one message may have: frg is one byte (kcp-go's limit, 255).</summary>
    public const int MaxFragments = 255;

    /// <summary>Largest mtu accepted: the largest UDP payload over IPv4.</summary>
    public const int MaxMtu = 65507;

    /// <summary>
    /// A peer's in-flight span is bounded by the 16-bit wnd it learned from us, so no legitimate PUSH lags
    /// rcv_nxt by more than this; older ones are forged or ancient and are not acknowledged.
    /// </summary>
    private const int MaxPushLag = 65536;

    private readonly uint _conv;
    private readonly IKcpOutput _output;
    private readonly KcpSegmentQueue _sndQueue = new();
    private readonly KcpSegmentQueue _sndBuf = new();
    private readonly KcpSegmentQueue _rcvQueue = new();

    // rcv_buf as a ring of slots indexed by sn: sn in [rcv_nxt, rcv_nxt + rcv_wnd) maps to one slot, O(1)
    // insert/lookup. It starts small and grows (to at most rcv_wnd rounded up) only when
    // a segment arrives that far ahead of rcv_nxt: thousands of quiet sessions with 1024-segment windows
    // would otherwise hold 48 KB each of empty slots. A larger ring is rented from a pool and goes back
    // to it as soon as rcv_buf empties again, so one far-ahead sn does not pin it for the session's life.
    private const int InitialReceiveSlots = 32;
    private readonly KcpSegment[] _initialRcvSlots;
    private KcpSegment[] _rcvSlots;
    private int _rcvBufCount;

    private uint[] _ackSn = new uint[16];
    private uint[] _ackTs = new uint[16];
    private int _ackCount;

    private byte[] _buffer;
    private int _pos;

    private uint _mtu = IKCP_MTU_DEF;
    private uint _mss;
    private int _reserved;
    private uint _state;
    private uint _snd_una, _snd_nxt, _rcv_nxt;
    private uint _lastTellTs, _tellEchoTs;
    private bool _tellSent, _tellEchoPending;
    private uint _ssthresh = IKCP_THRESH_INIT;
    private int _rx_rttvar, _rx_srtt;
    private uint _rx_rto = IKCP_RTO_DEF, _rx_minrto = IKCP_RTO_MIN;
    private uint _snd_wnd = IKCP_WND_SND, _rcv_wnd = IKCP_WND_RCV, _rmt_wnd = IKCP_WND_RCV, _cwnd, _probe;
    private uint _interval = IKCP_INTERVAL, _ts_flush = IKCP_INTERVAL;
    private uint _nodelay;
    private bool _updated;
    private uint _ts_probe, _probe_wait;

    private AckClock _ackClock;
    private bool _ackProgress;
    private uint _dead_link = IKCP_DEADLINK;
    private uint _incr;
    private int _fastresend;
    private bool _nocwnd;
    private uint _current;
    private bool _disposed;

    // Null: kcp-go's window and cwnd, byte for byte. Set: a rate-based controller paces and bounds what is sent.
    private BbrController? _bbr;

    // The nearest retransmission the last flush left pending (absolute ms), so Update sends it when it falls due
    // rather than at the next interval tick: kcp-go's session flushes at min(interval, nearest rto) too.
    private uint _retransmitDue;
    private bool _retransmitPending;

    // The last wnd value we put on the wire; ushort.MaxValue + 1 means "nothing advertised yet".
    private int _lastAdvertisedWnd = ushort.MaxValue + 1;

    // A window reopened from zero is re-announced a few times (backing off from rto) until the peer sends
    // data again: one lost WINS must not leave the peer waiting for its 7 s window probe.
    private const int ReopenRepeats = 3;
    private int _reopenRepeatsLeft;
    private uint _reopenNextTs, _reopenBackoff;

    private ulong _tailLossProbes;
    private ulong _fastRetrans, _earlyRetrans, _lostSegs, _repeatSegs, _inSegs, _outSegs, _reopenAnnouncements;
    private ulong _rejTruncated, _rejLength, _rejConv, _rejCmd, _rejWindow, _rejUna, _overBudget;

    /// <summary>
    /// Where segment buffers come from and go back to. An I/O loop gives its sessions one of its own:
    /// thousands of sessions holding and releasing segments outrun the shared pool's small per-core
    /// stocks, and every miss is a new array for the GC.
    /// </summary>
    public ArrayPool<byte> BufferPool { get; init; } = ArrayPool<byte>.Shared;

    /// <summary>
    /// What rcv_buf and rcv_queue may hold (segment buffers and ring slots), shared with whatever else holds
    /// this peer's bytes; null: bounded by rcv_wnd only. A PUSH that does not fit is dropped unacknowledged
    /// (the sender retransmits it), and the advertised window never offers more than fits. Not part of kcp-go.
    /// </summary>
    public IReceiveBudget? ReceiveBudget { get; init; }

    public KcpControlBlock(uint conv, IKcpOutput output)
    {
        ArgumentNullException.ThrowIfNull(output);
        _conv = conv;
        _output = output;
        _mss = _mtu - IKCP_OVERHEAD;
        _buffer = new byte[_mtu];
        _rcvSlots = _initialRcvSlots = new KcpSegment[InitialReceiveSlots];
    }

    /// <summary>The conversation id (conv) both peers share.</summary>
    public uint Conv => _conv;

    /// <summary>Maximum datagram size, reserved bytes included.</summary>
    public int Mtu => (int)_mtu;

    /// <summary>Maximum payload of one segment: mtu - 24 - <see cref="ReservedBytes"/>.</summary>
    public int Mss => (int)_mss;

    /// <summary>Largest message <see cref="Send"/> accepts in message mode.</summary>
    public int MaxMessageSize => MaxFragments * (int)_mss;

    /// <summary>Flush interval in ms.</summary>
    public int Interval => (int)_interval;

    /// <summary>
    /// Bytes left free at the start of every output datagram for the FEC and cipher headers (kcp-go ReserveBytes).
    /// </summary>
    public int ReservedBytes
    {
        get => _reserved;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(value, (int)_mtu - IKCP_OVERHEAD);
            _reserved = value;
            _mss = _mtu - IKCP_OVERHEAD - (uint)value;
        }
    }

    /// <summary>Stream mode: sends coalesce into full segments and frg is always 0.</summary>
    public bool StreamMode { get; set; }

    /// <summary>Transmissions of one segment after which the link counts as dead (kcp-go dead_link, default 20).</summary>
    public int DeadLink
    {
        get => (int)_dead_link;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            _dead_link = (uint)value;
        }
    }

    /// <summary>True once a segment has been transmitted <see cref="DeadLink"/> times (kcp-go state 0xFFFFFFFF).</summary>
    public bool IsDeadLink => _state == 0xFFFFFFFF;

    /// <summary>
    /// True once the peer has acknowledged a segment echoing the exact ts we last sent it with: it has
    /// received our datagrams, so its address is its own. Not part of kcp-go; it changes nothing on the wire.
    /// </summary>
    public bool PeerEchoedSentTs { get; private set; }

    /// <summary>
    /// Our window-tell segments (WINS) carry our clock as ts instead of kcp-go's 0, so a peer of ours can
    /// echo it and prove its address before any data flows. kcp-go ignores a WINS's ts. Off by default,
    /// so the engine's output stays byte-identical to kcp-go's.
    /// </summary>
    public bool StampWindowTell { get; init; }

    /// <summary>Answer a stamped WINS with an ack echoing its ts (see <see cref="TryTakeTellEcho"/>).</summary>
    public bool EchoWindowTell { get; init; }

    /// <summary>
    /// The time, read again as each segment goes out during a flush (kcp-go reads its clock per segment
    /// sent). A full window's flush (encryption and FEC on the way out, the datagrams handed to the kernel)
    /// can take milliseconds under load; with the flush's time throughout, the last segments' resend
    /// deadlines would fall that much early, and spurious timeouts follow. Null: the flush's time throughout.
    /// </summary>
    public Func<uint>? Clock { get; init; }

    /// <summary>
    /// The ack that answers the last stamped WINS received, once: ts echoed, and sn/una that only restate
    /// what we have received (sn = rcv_nxt − 1, outside any window while nothing has arrived), so kcp-go
    /// reads it as an ordinary ack.
    /// </summary>
    public bool TryTakeTellEcho(out SegmentHeader ack)
    {
        if (!_tellEchoPending)
        {
            ack = default;
            return false;
        }

        _tellEchoPending = false;
        ack = new SegmentHeader(_conv, KcpCommand.Ack, 0, (ushort)WndUnused(), _tellEchoTs, _rcv_nxt - 1, _rcv_nxt, 0);
        return true;
    }

    /// <summary>
    /// Announce a reopened receive window at once with a WINS segment (beyond kcp-go, on by default). Off
    /// reproduces kcp-go's datagrams exactly.
    /// </summary>
    public bool AnnounceWindowReopen { get; set; } = true;

    /// <summary>
    /// Sends an unacknowledged segment of sparse traffic once more after srtt + 2 × rttvar, before its rto (see
    /// <see cref="TailLossProbeRule"/>; not part of kcp-go). Same wire format; off reproduces kcp-go's datagrams.
    /// </summary>
    public bool TailLossProbe { get; set; }

    /// <summary>
    /// A retransmission timeout waits while acks of new data keep arriving (see <see cref="AckClock"/>); off,
    /// each segment times out on its own clock as in kcp-go. Sender-side only: the wire is the same.
    /// </summary>
    public bool HoldTimeoutsWhileAcked { get; set; } = true;

    /// <summary>
    /// Input flushes (acks at once with ackNoDelay, everything when the window slid), as kcp-go does per datagram.
    /// Off for a caller that flushes once after a batch of datagrams in the same turn: the acks of the batch
    /// share datagrams and the send buffer is walked once per batch, not once per datagram.
    /// </summary>
    public bool FlushAfterInput { get; init; } = true;

    /// <summary>Segments not yet acknowledged: snd_buf plus snd_queue (kcp-go WaitSnd).</summary>
    public int WaitSnd => _sndBuf.Count + _sndQueue.Count;

    /// <summary>Segments in snd_queue, not yet sent once.</summary>
    public int SendQueueCount => _sndQueue.Count;

    /// <summary>Segments in rcv_queue, ready for <see cref="Receive"/>.</summary>
    public int ReceiveQueueCount => _rcvQueue.Count;

    /// <summary>The peer's last advertised receive window (rmt_wnd).</summary>
    public int RemoteWindow => (int)_rmt_wnd;

    /// <summary>Our send window (snd_wnd).</summary>
    public int SendWindow => (int)_snd_wnd;

    /// <summary>Our receive window (rcv_wnd).</summary>
    public int ReceiveWindow => (int)_rcv_wnd;

    /// <summary>The time (ms) last passed in by the caller.</summary>
    public uint Current => _current;

    /// <summary>True when a flush would announce a window update (WINS) the peer is waiting for.</summary>
    public bool HasPendingWindowUpdate => (_probe & IKCP_ASK_TELL) != 0 || WindowReopened(WndUnused());

    internal uint SndUna => _snd_una;

    internal uint SndNxt => _snd_nxt;

    internal uint RcvNxt => _rcv_nxt;

    /// <summary>The live figures.</summary>
    public KcpStatistics Statistics => new()
    {
        Srtt = _rx_srtt,
        RttVar = _rx_rttvar,
        Rto = _rx_rto,
        Cwnd = _bbr is null ? _cwnd : (uint)Math.Min(_bbr.Window / (IKCP_OVERHEAD + _mss), uint.MaxValue),
        Ssthresh = _ssthresh,
        InFlight = _snd_nxt - _snd_una,
        SendQueueLength = _sndQueue.Count,
        SendBufferLength = _sndBuf.Count,
        ReceiveQueueLength = _rcvQueue.Count,
        ReceiveBufferLength = _rcvBufCount,
        FastRetransmits = _fastRetrans,
        EarlyRetransmits = _earlyRetrans,
        TimeoutRetransmits = _lostSegs,
        TailLossProbes = _tailLossProbes,
        DuplicateSegments = _repeatSegs,
        SegmentsIn = _inSegs,
        SegmentsOut = _outSegs,
        RejectedTruncated = _rejTruncated,
        RejectedLengthMismatch = _rejLength,
        RejectedWrongConv = _rejConv,
        RejectedUnknownCommand = _rejCmd,
        RejectedOutOfWindow = _rejWindow,
        RejectedInvalidUna = _rejUna,
        WindowReopenAnnouncements = _reopenAnnouncements,
        RejectedOverBudget = _overBudget,
    };

    /// <summary>Changes the mtu (kcp-go SetMtu); false when it is below 50, above <see cref="MaxMtu"/> or leaves no mss.</summary>
    public bool SetMtu(int mtu)
    {
        if (mtu < 50 || mtu > MaxMtu || _reserved >= mtu - IKCP_OVERHEAD)
        {
            return false;
        }

        _mtu = (uint)mtu;
        _mss = _mtu - IKCP_OVERHEAD - (uint)_reserved;
        if (_buffer.Length < mtu)
        {
            _buffer = new byte[mtu];
        }

        return true;
    }

    /// <summary>kcp-go NoDelay: negative values leave a setting unchanged; interval is clamped to 10..5000 ms.</summary>
    public void SetNoDelay(int nodelay, int interval, int resend, bool nc)
    {
        if (nodelay >= 0)
        {
            _nodelay = (uint)nodelay;
            _rx_minrto = nodelay != 0 ? IKCP_RTO_NDL : (uint)IKCP_RTO_MIN;
        }

        if (interval >= 0)
        {
            _interval = (uint)Math.Clamp(interval, 10, 5000);
        }

        if (resend >= 0)
        {
            _fastresend = resend;
        }

        _nocwnd = nc;
    }

    /// <summary>kcp-go WndSize: values ≤ 0 leave a window unchanged; rcvwnd is capped at 65535 (wnd is 16 bits).</summary>
    public void SetWindowSize(int sndwnd, int rcvwnd)
    {
        if (sndwnd > 0)
        {
            _snd_wnd = (uint)sndwnd;
        }

        if (rcvwnd > 0)
        {
            _rcv_wnd = (uint)Math.Min(rcvwnd, ushort.MaxValue);
        }
    }

    /// <summary>
    /// Switches to rate-based congestion control (<see cref="BbrController"/>): sends are paced and bounded by
    /// the estimated bandwidth-delay product (within the peer's window), in place of kcp-go's cwnd and nc.
    /// The wire format is unchanged. Call before any traffic, after the MTU and reserved bytes are set.
    /// </summary>
    public void UseRateControl() => _bbr = new BbrController((int)_mtu - _reserved);

    /// <summary>The rate-based controller, when <see cref="UseRateControl"/> switched it on.</summary>
    internal BbrController? RateControl => _bbr;

    /// <summary>
    /// Queues <paramref name="data"/> for sending (kcp-go Send). Returns the bytes accepted, -1 for an empty
    /// buffer, -2 when a message would need more than <see cref="MaxFragments"/> fragments.
    /// </summary>
    /// <remarks>
    /// As kcp-go, the limit is the 255 fragments frg can number, not the peer's receive window (which the
    /// sender does not know): a receiver of this class assembles a message of more fragments than its rcv_wnd
    /// (they count against the window only once complete); kcp-go receivers need rcv_wnd &gt; fragments.
    /// </remarks>
    public int Send(ReadOnlySpan<byte> data)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (data.IsEmpty)
        {
            return -1;
        }

        var accepted = data.Length;
        var mss = (int)_mss;
        if (StreamMode)
        {
            if (_sndQueue.Count > 0)
            {
                ref var last = ref _sndQueue.Last;
                var capacity = Math.Min(mss, last.Data!.Length) - last.Length;
                if (capacity > 0)
                {
                    var extend = Math.Min(capacity, data.Length);
                    data[..extend].CopyTo(last.Data.AsSpan(last.Length));
                    last.Length += extend;
                    data = data[extend..];
                }
            }

            if (data.IsEmpty)
            {
                return accepted;
            }
        }

        var count = data.Length <= mss ? 1 : (data.Length + mss - 1) / mss;
        if (!StreamMode && count > MaxFragments)
        {
            return -2;
        }

        for (var i = 0; i < count; i++)
        {
            var size = Math.Min(data.Length, mss);
            var segment = new KcpSegment
            {
                Data = BufferPool.Rent(mss),
                Length = size,
                Frg = StreamMode ? (byte)0 : (byte)(count - i - 1),
            };
            data[..size].CopyTo(segment.Data);
            _sndQueue.PushBack(segment);
            data = data[size..];
        }

        return accepted;
    }

    /// <summary>Size of the next complete message in rcv_queue, or -1 when there is none (kcp-go PeekSize).</summary>
    public int PeekSize()
    {
        if (_rcvQueue.Count == 0)
        {
            return -1;
        }

        ref var first = ref _rcvQueue.First;
        if (first.Frg == 0)
        {
            return first.Length;
        }

        if (_rcvQueue.Count < first.Frg + 1)
        {
            return -1;
        }

        var length = 0;
        for (var k = 0; k < _rcvQueue.Count; k++)
        {
            ref var seg = ref _rcvQueue[k];
            length += seg.Length;
            if (seg.Frg == 0)
            {
                break;
            }
        }

        return length;
    }

    /// <summary>
    /// Copies the next message into <paramref name="buffer"/> (kcp-go Recv). Returns its length, -1 when no
    /// complete message is queued, -2 when <paramref name="buffer"/> is smaller than <see cref="PeekSize"/>.
    /// </summary>
    public int Receive(Span<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var peek = PeekSize();
        if (peek < 0)
        {
            return -1;
        }

        if (peek > buffer.Length)
        {
            return -2;
        }

        return TakeMessage(buffer, copy: true);
    }

    /// <summary>
    /// Drops the next complete message without copying it, as <see cref="Receive"/> would take it (window
    /// moves and reopens the same way). Returns its length, or -1 when no complete message is queued.
    /// </summary>
    public int DiscardMessage()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return PeekSize() < 0 ? -1 : TakeMessage(default, copy: false);
    }

    private int TakeMessage(Span<byte> buffer, bool copy)
    {
        var fastRecover = QueuedAgainstWindow() >= _rcv_wnd;
        var n = 0;
        while (_rcvQueue.Count > 0)
        {
            var seg = _rcvQueue.PopFront();
            if (copy)
            {
                seg.Payload.CopyTo(buffer[n..]);
            }

            n += seg.Length;
            ReturnHeld(seg.Data!);
            if (seg.Frg == 0)
            {
                break;
            }
        }

        MoveReceiveBuffer();

        if (QueuedAgainstWindow() < _rcv_wnd && fastRecover)
        {
            _probe |= IKCP_ASK_TELL;
        }

        return n;
    }

    /// <summary>
    /// Feeds one datagram's KCP bytes (kcp-go Input). <paramref name="regular"/> is false for packets rebuilt by
    /// FEC: their wnd and ts are stale, so they update neither rmt_wnd nor the RTT estimate.
    /// </summary>
    public KcpInputResult Input(ReadOnlySpan<byte> data, uint current, bool ackNoDelay = false, bool regular = true)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _current = current;

        var malformed = Validate(data);
        if (malformed != KcpInputResult.Ok)
        {
            CountRejection(malformed);
            return malformed;
        }

        var result = KcpInputResult.Ok;
        var prevUna = _snd_una;
        uint latest = 0;
        var sawAck = false;
        var windowSlides = false;

        while (data.Length >= IKCP_OVERHEAD)
        {
            SegmentHeader.TryRead(data, out var h);
            var payload = data.Slice(IKCP_OVERHEAD, (int)h.Len);
            data = data[(IKCP_OVERHEAD + (int)h.Len)..];

            var rejection = Screen(in h);
            if (rejection != KcpInputResult.Ok)
            {
                CountRejection(rejection);
                if (result == KcpInputResult.Ok)
                {
                    result = rejection;
                }

                continue;
            }

            if (regular)
            {
                _rmt_wnd = h.Wnd;
            }

            if (h.Cmd == KcpCommand.Ack && !PeerEchoedSentTs)
            {
                // Before una removes the segment: an ack that echoes the exact ts of a segment in
                // flight shows the peer received our datagram (a sender's ts is not guessable when its
                // clock has a random origin), so it proves the peer's address.
                PeerEchoedSentTs = EchoesSentTs(h.Sn, h.Ts);
            }

            if (ParseUna(h.Una) > 0)
            {
                windowSlides = true;
            }

            ShrinkBuf();

            switch (h.Cmd)
            {
                case KcpCommand.Ack:
                    ParseAck(h.Sn);
                    ParseFastAck(h.Sn, h.Ts);
                    sawAck = true;
                    latest = h.Ts;
                    break;
                case KcpCommand.Push:
                    _reopenRepeatsLeft = 0;
                    var repeat = true;
                    if (TimeDiff(h.Sn, _rcv_nxt) >= 0 && !ParseData(h.Sn, h.Frg, payload, out repeat))
                    {
                        // Over the receive budget: not held, so not acknowledged either; the sender
                        // retransmits it once the app has read (acking it would lose it).
                        _overBudget++;
                        break;
                    }

                    AckPush(h.Sn, h.Ts);

                    if (regular && repeat)
                    {
                        _repeatSegs++;
                    }

                    break;
                case KcpCommand.WindowAsk:
                    _probe |= IKCP_ASK_TELL;
                    break;
                default:
                    // WINS: the wnd it carries was taken above. A stamped one (ts not 0) is answered
                    // by an ack echoing its ts, when EchoWindowTell is on: see TryTakeTellEcho.
                    if (EchoWindowTell && h.Ts != 0)
                    {
                        _tellEchoTs = h.Ts;
                        _tellEchoPending = true;
                    }

                    break;
            }

            _inSegs++;
        }

        if (_ackProgress || TimeDiff(_snd_una, prevUna) > 0)
        {
            _ackProgress = false;
            _ackClock.OnProgress(current);
        }

        var rtt = -1;
        if (sawAck && regular && TimeDiff(current, latest) >= 0)
        {
            rtt = TimeDiff(current, latest);
            UpdateAck(rtt);
        }

        var delivered = _bbr?.Delivered ?? 0;
        var windowLimited = _bbr?.WindowLimited ?? false;
        _bbr?.OnAckEventEnd(current, rtt);

        if (_bbr is null && !_nocwnd && TimeDiff(_snd_una, prevUna) > 0 && _cwnd < _rmt_wnd)
        {
            var mss = _mss;
            if (_cwnd < _ssthresh)
            {
                _cwnd++;
                _incr += mss;
            }
            else
            {
                if (_incr < mss)
                {
                    _incr = mss;
                }

                _incr += (mss * mss / _incr) + (mss / 16);
                if ((_cwnd + 1) * mss <= _incr)
                {
                    _cwnd = mss > 0 ? (_incr + mss - 1) / mss : _incr + mss - 1;
                }
            }

            if (_cwnd > _rmt_wnd)
            {
                _cwnd = _rmt_wnd;
                _incr = _rmt_wnd * mss;
            }
        }

        if (!FlushAfterInput)
        {
            return result;
        }

        // Paced: when the window held data back, any ack frees room in flight, not only one that moves una.
        if (windowSlides || (windowLimited && _bbr!.Delivered != delivered))
        {
            FlushCore(false);
        }
        else if (ackNoDelay && _ackCount > 0)
        {
            FlushCore(true);
        }

        return result;
    }

    /// <summary>Flushes at the time last passed in (by Input, Update, Check or <see cref="FlushAt"/>).</summary>
    public void Flush(bool ackOnly = false)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        FlushCore(ackOnly);
    }

    /// <summary>
    /// Flushes at <paramref name="current"/> (kcp-go flush): acks, window probes, new data within the window and
    /// due retransmissions. Returns the ms until the nearest retransmission, at most the interval, as kcp-go's
    /// session uses to schedule its next update.
    /// </summary>
    public uint FlushAt(uint current, bool ackOnly = false)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _current = current;
        return FlushCore(ackOnly);
    }

    /// <summary>ikcp_update: flushes when the interval has elapsed since the last flush.</summary>
    public void Update(uint current)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _current = current;
        if (!_updated)
        {
            _updated = true;
            _ts_flush = current;
        }

        var slap = TimeDiff(current, _ts_flush);
        if (slap is >= 10000 or < -10000)
        {
            _ts_flush = current;
            slap = 0;
        }

        if (slap >= 0)
        {
            _ts_flush += _interval;
            if (TimeDiff(current, _ts_flush) >= 0)
            {
                _ts_flush = current + _interval;
            }

            FlushCore(false);
        }
        else if ((AnnounceWindowReopen && HasPendingWindowUpdate) || RetransmitDue(current) || PacedSendDue(current))
        {
            // The reopened window is announced, and a due retransmission sent, at once rather than at the next
            // interval tick: on a quiet link that tick adds up to a whole interval to every recovery. Paced sends go
            // out on the tick the pacer has tokens again.
            FlushCore(false);
        }
    }

    private bool RetransmitDue(uint current) => _retransmitPending && _sndBuf.Count > 0 && TimeDiff(current, _retransmitDue) >= 0;

    /// <summary>ikcp_check: the time at which <see cref="Update"/> should next be called.</summary>
    public uint Check(uint current)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _current = current;
        if (!_updated || (AnnounceWindowReopen && HasPendingWindowUpdate))
        {
            return current;
        }

        var tsFlush = _ts_flush;
        if (TimeDiff(current, tsFlush) is >= 10000 or < -10000)
        {
            tsFlush = current;
        }

        if (TimeDiff(current, tsFlush) >= 0)
        {
            return current;
        }

        var tmFlush = TimeDiff(tsFlush, current);
        var tmPacket = int.MaxValue;
        for (var k = 0; k < _sndBuf.Count; k++)
        {
            ref var seg = ref _sndBuf[k];
            if (seg.Acked)
            {
                continue;
            }

            var diff = TimeDiff(seg.ResendTs, current);
            if (diff <= 0)
            {
                return current;
            }

            tmPacket = Math.Min(tmPacket, diff);
        }

        if (RetransmitDue(current))
        {
            return current;
        }

        if (_retransmitPending && _sndBuf.Count > 0)
        {
            tmPacket = Math.Min(tmPacket, TimeDiff(_retransmitDue, current));
        }

        var minimal = (uint)Math.Min(tmPacket, tmFlush);
        var next = current + Math.Min(minimal, _interval);
        return _bbr is { PacingDeferred: true } && TimeDiff(_bbr.NextSendTime(current), next) < 0 ? _bbr.NextSendTime(current) : next;
    }

    private bool PacedSendDue(uint current) => _bbr is { PacingDeferred: true } && TimeDiff(_bbr.NextSendTime(current), current) <= 0;

    /// <summary>Returns every pooled buffer; the control block is unusable afterwards.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        ReleaseAll(_sndQueue);
        ReleaseAll(_sndBuf);
        ReleaseReceived();
    }

    /// <summary>
    /// Drops everything received and not yet read (rcv_buf, rcv_queue), giving its bytes back to the budget:
    /// for a session that has ended, whose unread data nobody will take.
    /// </summary>
    public void ReleaseReceived()
    {
        while (_rcvQueue.Count > 0)
        {
            ReturnHeld(_rcvQueue.PopFront().Data!);
        }

        for (var i = 0; i < _rcvSlots.Length; i++)
        {
            if (_rcvSlots[i].Data is { } data)
            {
                ReturnHeld(data);
                _rcvSlots[i] = default;
            }
        }

        _rcvBufCount = 0;
        ReleaseReceiveSlots(clear: false);
    }

    /// <summary>Starts the sequence space at <paramref name="sn"/> (tests of sn wrap); only before any traffic.</summary>
    internal void StartSequenceAt(uint sn)
    {
        if (WaitSnd != 0 || _rcvBufCount != 0 || _rcvQueue.Count != 0)
        {
            throw new InvalidOperationException("The sequence space can only be moved before any traffic.");
        }

        _snd_una = _snd_nxt = _rcv_nxt = sn;
    }

    /// <summary>Checks the window and sequence invariants; returns a description of the first broken one, or null.</summary>
    internal string? CheckInvariants()
    {
        if (TimeDiff(_snd_nxt, _snd_una) < 0)
        {
            return $"snd_nxt {_snd_nxt} < snd_una {_snd_una}";
        }

        if (_sndBuf.Count != (int)(_snd_nxt - _snd_una))
        {
            return $"snd_buf holds {_sndBuf.Count}, snd_nxt - snd_una = {_snd_nxt - _snd_una}";
        }

        for (var k = 0; k < _sndBuf.Count; k++)
        {
            ref var seg = ref _sndBuf[k];
            if (seg.Sn != _snd_una + (uint)k)
            {
                return $"snd_buf[{k}].sn = {seg.Sn}, expected {_snd_una + (uint)k}";
            }

            if (seg.Acked != (seg.Data is null))
            {
                return $"snd_buf[{k}] acked={seg.Acked} but buffer present={seg.Data is not null}";
            }
        }

        var held = 0;
        for (var i = 0; i < _rcvSlots.Length; i++)
        {
            ref var slot = ref _rcvSlots[i];
            if (slot.Data is null)
            {
                continue;
            }

            held++;
            if (TimeDiff(slot.Sn, _rcv_nxt) < 0 || TimeDiff(slot.Sn, _rcv_nxt + (uint)_rcvSlots.Length) >= 0)
            {
                return $"rcv_buf holds sn {slot.Sn} outside [{_rcv_nxt}, +{_rcvSlots.Length})";
            }

            if ((slot.Sn & (uint)(_rcvSlots.Length - 1)) != i)
            {
                return $"rcv_buf sn {slot.Sn} in wrong slot {i}";
            }
        }

        if (held != _rcvBufCount)
        {
            return $"rcv_buf count {_rcvBufCount} but {held} slots used";
        }

        if (_rcvBufCount > 0 && _rcvSlots[_rcv_nxt & (uint)(_rcvSlots.Length - 1)].Data is not null && QueuedAgainstWindow() < _rcv_wnd)
        {
            return "segment rcv_nxt waits in rcv_buf although rcv_queue has room";
        }

        return null;
    }

    private static int TimeDiff(uint later, uint earlier) => (int)(later - earlier);

    private void ReleaseAll(KcpSegmentQueue queue)
    {
        while (queue.Count > 0)
        {
            var seg = queue.PopFront();
            if (seg.Data is not null)
            {
                BufferPool.Return(seg.Data);
            }
        }
    }

    private KcpInputResult Validate(ReadOnlySpan<byte> data)
    {
        if (data.Length < IKCP_OVERHEAD)
        {
            return KcpInputResult.Truncated;
        }

        while (data.Length >= IKCP_OVERHEAD)
        {
            if (BinaryPrimitives.ReadUInt32LittleEndian(data) != _conv)
            {
                return KcpInputResult.WrongConv;
            }

            var len = BinaryPrimitives.ReadUInt32LittleEndian(data[20..]);
            if (len > (uint)(data.Length - IKCP_OVERHEAD))
            {
                return KcpInputResult.LengthMismatch;
            }

            var cmd = (KcpCommand)data[4];
            if (cmd is not (KcpCommand.Push or KcpCommand.Ack or KcpCommand.WindowAsk or KcpCommand.WindowTell))
            {
                return KcpInputResult.UnknownCommand;
            }

            data = data[(IKCP_OVERHEAD + (int)len)..];
        }

        return KcpInputResult.Ok;
    }

    private KcpInputResult Screen(in SegmentHeader h)
    {
        if (TimeDiff(h.Una, _snd_nxt) > 0)
        {
            return KcpInputResult.InvalidUna;
        }

        return h.Cmd switch
        {
            KcpCommand.Ack when TimeDiff(h.Sn, _snd_nxt) >= 0 => KcpInputResult.OutOfWindow,
            KcpCommand.Push when TimeDiff(h.Sn, _rcv_nxt + _rcv_wnd) >= 0 || TimeDiff(_rcv_nxt, h.Sn) > MaxPushLag
                => KcpInputResult.OutOfWindow,
            _ => KcpInputResult.Ok,
        };
    }

    private void CountRejection(KcpInputResult result)
    {
        switch (result)
        {
            case KcpInputResult.Truncated:
                _rejTruncated++;
                break;
            case KcpInputResult.LengthMismatch:
                _rejLength++;
                break;
            case KcpInputResult.WrongConv:
                _rejConv++;
                break;
            case KcpInputResult.UnknownCommand:
                _rejCmd++;
                break;
            case KcpInputResult.OutOfWindow:
                _rejWindow++;
                break;
            default:
                _rejUna++;
                break;
        }
    }

    private void UpdateAck(int rtt)
    {
        // RFC 6298, with kcp-go's reduced weight for samples below srtt - rttvar.
        if (_rx_srtt == 0)
        {
            _rx_srtt = rtt;
            _rx_rttvar = rtt >> 1;
        }
        else
        {
            var delta = rtt - _rx_srtt;
            _rx_srtt += delta >> 3;
            if (delta < 0)
            {
                delta = -delta;
            }

            if (rtt < _rx_srtt - _rx_rttvar)
            {
                _rx_rttvar += (delta - _rx_rttvar) >> 5;
            }
            else
            {
                _rx_rttvar += (delta - _rx_rttvar) >> 2;
            }
        }

        var rto = (uint)_rx_srtt + Math.Max(_interval, (uint)_rx_rttvar << 2);
        _rx_rto = Math.Min(Math.Max(_rx_minrto, rto), IKCP_RTO_MAX);
    }

    private void ShrinkBuf() => _snd_una = _sndBuf.Count > 0 ? _sndBuf.First.Sn : _snd_nxt;

    private bool EchoesSentTs(uint sn, uint ts) =>
        (_tellSent && ts == _lastTellTs)
        || (TimeDiff(sn, _snd_una) >= 0 && TimeDiff(sn, _snd_nxt) < 0 && _sndBuf[(int)(sn - _snd_una)].Ts == ts);

    private void ParseAck(uint sn)
    {
        if (TimeDiff(sn, _snd_una) < 0 || TimeDiff(sn, _snd_nxt) >= 0)
        {
            return;
        }

        // snd_buf holds consecutive sn starting at snd_una, so the acked segment is found by index.
        ref var seg = ref _sndBuf[(int)(sn - _snd_una)];
        if (!seg.Acked)
        {
            _bbr?.OnAcked(sn, _current);
            _ackProgress = true;
            seg.Acked = true;
            BufferPool.Return(seg.Data!);
            seg.Data = null;
        }
    }

    private void ParseFastAck(uint sn, uint ts)
    {
        if (TimeDiff(sn, _snd_una) < 0 || TimeDiff(sn, _snd_nxt) >= 0)
        {
            return;
        }

        var before = (int)(sn - _snd_una);
        for (var k = 0; k < before; k++)
        {
            ref var seg = ref _sndBuf[k];
            if (TimeDiff(seg.Ts, ts) <= 0)
            {
                seg.FastAck++;
            }
        }
    }

    private int ParseUna(uint una)
    {
        var count = 0;
        while (_sndBuf.Count > 0 && TimeDiff(una, _sndBuf.First.Sn) > 0)
        {
            var seg = _sndBuf.PopFront();
            if (seg.Data is not null)
            {
                _bbr?.OnAcked(seg.Sn, _current);
                BufferPool.Return(seg.Data);
            }

            count++;
        }

        return count;
    }

    private void AckPush(uint sn, uint ts)
    {
        if (_ackCount == _ackSn.Length)
        {
            Array.Resize(ref _ackSn, _ackSn.Length * 2);
            Array.Resize(ref _ackTs, _ackTs.Length * 2);
        }

        _ackSn[_ackCount] = sn;
        _ackTs[_ackCount] = ts;
        _ackCount++;
    }

    /// <summary>
    /// Stores a PUSH in rcv_buf unless already held (<paramref name="repeat"/>); false when it does not fit the
    /// <see cref="ReceiveBudget"/>, and then nothing changed.
    /// </summary>
    private bool ParseData(uint sn, byte frg, ReadOnlySpan<byte> payload, out bool repeat)
    {
        // The caller admitted sn within [rcv_nxt, rcv_nxt + rcv_wnd). The ring holds [rcv_nxt, rcv_nxt + its
        // length), so an sn beyond it cannot be a repeat; the ring grows to reach it once the data fits.
        var ahead = sn - _rcv_nxt;
        repeat = ahead < (uint)_rcvSlots.Length && _rcvSlots[sn & (uint)(_rcvSlots.Length - 1)].Data is not null;
        if (repeat)
        {
            MoveReceiveBuffer();
            return true;
        }

        var data = BufferPool.Rent(Math.Max(payload.Length, 1));
        if (!TryHold(data.Length))
        {
            BufferPool.Return(data);
            return false;
        }

        if (ahead >= (uint)_rcvSlots.Length && !GrowReceiveSlots((int)Math.Min(ahead + 1, ushort.MaxValue + 1u)))
        {
            ReturnHeld(data);
            return false;
        }

        payload.CopyTo(data);
        _rcvSlots[sn & (uint)(_rcvSlots.Length - 1)] = new KcpSegment { Sn = sn, Frg = frg, Data = data, Length = payload.Length };
        _rcvBufCount++;
        MoveReceiveBuffer();
        return true;
    }

    private bool TryHold(int bytes) => ReceiveBudget?.TryHold(bytes) ?? true;

    /// <summary>Returns a received segment's buffer to the pool and its bytes to the budget.</summary>
    private void ReturnHeld(byte[] data)
    {
        ReceiveBudget?.Release(data.Length);
        BufferPool.Return(data);
    }

    /// <summary>Bytes of one ring slot, as charged to the budget when the ring grows.</summary>
    private static int SlotBytes => Unsafe.SizeOf<KcpSegment>();

    /// <summary>Buffer bytes one full segment takes (the pool hands out powers of two): the window's unit against the budget.</summary>
    private long SegmentCost => (long)BitOperations.RoundUpToPowerOf2(Math.Max(_mss, 16u));

    /// <summary>Slots in the receive ring now (it grows towards rcv_wnd on demand).</summary>
    internal int ReceiveSlots => _rcvSlots.Length;

    /// <summary>Pool of the larger receive rings (their lengths are powers of two, as the ring needs).</summary>
    private static ArrayPool<KcpSegment> SlotPool => ArrayPool<KcpSegment>.Shared;

    private bool GrowReceiveSlots(int needed)
    {
        var size = KcpSegmentQueue.RoundUpToPowerOfTwo(Math.Max(needed, _rcvSlots.Length * 2));

        var larger = SlotPool.Rent(size);

        // A ring of rcv_wnd slots for one far-ahead sn is memory too: a rented ring is charged beyond the
        // initial one's slots (the one it replaces is given back below).
        if (!TryHold((larger.Length - InitialReceiveSlots) * SlotBytes))
        {
            SlotPool.Return(larger);
            return false;
        }

        System.Diagnostics.Debug.Assert((larger.Length & (larger.Length - 1)) == 0, "The shared pool's arrays are powers of two.");

        var mask = (uint)(larger.Length - 1);
        for (var i = 0; i < _rcvSlots.Length; i++)
        {
            if (_rcvSlots[i].Data is not null)
            {
                larger[_rcvSlots[i].Sn & mask] = _rcvSlots[i];
            }
        }

        ReleaseReceiveSlots(clear: true);
        _rcvSlots = larger;
        return true;
    }

    /// <summary>Leaves the current ring (cleared when <paramref name="clear"/>, else already empty): a rented one goes back to the pool, the initial one is kept.</summary>
    private void ReleaseReceiveSlots(bool clear)
    {
        if (clear)
        {
            Array.Clear(_rcvSlots);
        }

        if (!ReferenceEquals(_rcvSlots, _initialRcvSlots))
        {
            ReceiveBudget?.Release((_rcvSlots.Length - InitialReceiveSlots) * SlotBytes);
            SlotPool.Return(_rcvSlots);
            _rcvSlots = _initialRcvSlots;
        }
    }

    private void MoveReceiveBuffer()
    {
        var mask = (uint)(_rcvSlots.Length - 1);
        while (_rcvBufCount > 0 && QueuedAgainstWindow() < _rcv_wnd)
        {
            ref var slot = ref _rcvSlots[_rcv_nxt & mask];
            if (slot.Data is null || slot.Sn != _rcv_nxt)
            {
                break;
            }

            _rcvQueue.PushBack(slot);
            slot = default;
            _rcvBufCount--;
            _rcv_nxt++;
        }

        if (_rcvBufCount == 0)
        {
            // Every slot is empty (each was cleared as it moved on): nothing to copy or clear.
            ReleaseReceiveSlots(clear: false);
        }
    }

    private ushort WndUnused()
    {
        var queued = (uint)QueuedAgainstWindow();
        var wnd = queued < _rcv_wnd ? _rcv_wnd - queued : 0;
        if (ReceiveBudget is { } budget)
        {
            // Never offer more than the budget can hold, so a peer that keeps to our window is never dropped:
            // a full segment's buffer per sn, after the room the ring may still take to reach rcv_wnd slots.
            var ringGrowth = Math.Max(KcpSegmentQueue.RoundUpToPowerOfTwo((int)_rcv_wnd) - _rcvSlots.Length, 0) * (long)SlotBytes;
            wnd = (uint)Math.Min(wnd, Math.Max(budget.Available - ringGrowth, 0) / SegmentCost);
        }

        return (ushort)wnd;
    }

    /// <summary>
    /// Segments of rcv_queue that take up receive window: all of them (as kcp-go), except while its head is
    /// an incomplete message of more fragments than rcv_wnd. Such a message (a sender may cut up to 255)
    /// could never be assembled in a window-sized queue, and the window would stay shut for good; its
    /// fragments count only once it is complete (at most 255 segments beyond rcv_wnd, until it is read).
    /// </summary>
    private int QueuedAgainstWindow()
    {
        var count = _rcvQueue.Count;
        if (count > 0)
        {
            var frg = (uint)_rcvQueue.First.Frg;
            if (frg + 1 > _rcv_wnd && (uint)count < frg + 1)
            {
                return 0;
            }
        }

        return count;
    }

    private bool WindowReopened(ushort wnd) =>
        AnnounceWindowReopen && wnd > _lastAdvertisedWnd && (uint)_lastAdvertisedWnd * 2 < _rcv_wnd;

    private void MakeSpace(int space)
    {
        if (_pos + space > (int)_mtu)
        {
            EmitBuffer();
        }

        if (_pos + space > _buffer.Length)
        {
            // Only after the mtu shrank under segments already cut to the old mss.
            Array.Resize(ref _buffer, _pos + space);
        }
    }

    private void EmitBuffer()
    {
        if (_pos > _reserved)
        {
            _output.Output(_buffer.AsSpan(0, _pos));
        }

        _pos = _reserved;
    }

    private void WriteWindowTell(ushort wnd, uint una, uint current)
    {
        var ts = 0u;
        if (StampWindowTell)
        {
            // kcp-go sends ts 0 here and ignores a WINS's ts; ours carries our clock, so a peer can echo it.
            ts = current;
            _lastTellTs = current;
            _tellSent = true;
        }

        WriteHeader(KcpCommand.WindowTell, 0, wnd, ts, 0, una, 0);
    }

    private void WriteHeader(KcpCommand cmd, byte frg, ushort wnd, uint ts, uint sn, uint una, int len)
    {
        new SegmentHeader(_conv, cmd, frg, wnd, ts, sn, una, (uint)len).Write(_buffer.AsSpan(_pos));
        _pos += IKCP_OVERHEAD;
        if (wnd == 0)
        {
            _reopenRepeatsLeft = 0;
        }
        else if (_lastAdvertisedWnd == 0 && AnnounceWindowReopen)
        {
            _reopenRepeatsLeft = ReopenRepeats;
            _reopenBackoff = _rx_rto;
            _reopenNextTs = _current + _reopenBackoff;
        }

        _lastAdvertisedWnd = wnd;
        _outSegs++;
    }

    private uint FlushCore(bool ackOnly)
    {
        var wnd = WndUnused();
        var una = _rcv_nxt;
        _pos = _reserved;

        for (var i = 0; i < _ackCount; i++)
        {
            MakeSpace(IKCP_OVERHEAD);

            // As kcp-go: acks below rcv_nxt are covered by una, only the last one is kept (bufferbloat jitter filter).
            if (TimeDiff(_ackSn[i], _rcv_nxt) >= 0 || i == _ackCount - 1)
            {
                WriteHeader(KcpCommand.Ack, 0, wnd, _ackTs[i], _ackSn[i], una, 0);
            }
        }

        _ackCount = 0;

        if (ackOnly)
        {
            EmitBuffer();
            return _interval;
        }

        var current = _current;
        if (_rmt_wnd == 0)
        {
            if (_probe_wait == 0)
            {
                _probe_wait = IKCP_PROBE_INIT;
                _ts_probe = current + _probe_wait;
            }
            else if (TimeDiff(current, _ts_probe) >= 0)
            {
                if (_probe_wait < IKCP_PROBE_INIT)
                {
                    _probe_wait = IKCP_PROBE_INIT;
                }

                _probe_wait += _probe_wait / 2;
                if (_probe_wait > IKCP_PROBE_LIMIT)
                {
                    _probe_wait = IKCP_PROBE_LIMIT;
                }

                _ts_probe = current + _probe_wait;
                _probe |= IKCP_ASK_SEND;
            }
        }
        else
        {
            _ts_probe = 0;
            _probe_wait = 0;
        }

        if ((_probe & IKCP_ASK_SEND) != 0)
        {
            MakeSpace(IKCP_OVERHEAD);
            WriteHeader(KcpCommand.WindowAsk, 0, wnd, 0, 0, una, 0);
        }

        var reopened = WindowReopened(wnd);
        if ((_probe & IKCP_ASK_TELL) != 0 || reopened)
        {
            if ((_probe & IKCP_ASK_TELL) == 0)
            {
                _reopenAnnouncements++;
            }

            MakeSpace(IKCP_OVERHEAD);
            WriteWindowTell(wnd, una, current);
        }
        else if (_reopenRepeatsLeft > 0 && _pos == _reserved && TimeDiff(current, _reopenNextTs) >= 0)
        {
            _reopenRepeatsLeft--;
            _reopenBackoff *= 2;
            _reopenNextTs = current + _reopenBackoff;
            _reopenAnnouncements++;
            MakeSpace(IKCP_OVERHEAD);
            WriteWindowTell(wnd, una, current);
        }

        _probe = 0;

        var cwnd = Math.Min(_snd_wnd, _rmt_wnd);
        var bbr = _bbr;
        bbr?.BeginFlush(current);
        if (!_nocwnd && bbr is null)
        {
            cwnd = Math.Min(_cwnd, cwnd);
        }

        var newSegsCount = 0;
        while (_sndQueue.Count > 0 && TimeDiff(_snd_nxt, _snd_una + cwnd) < 0)
        {
            if (bbr is not null && !bbr.AdmitNew(IKCP_OVERHEAD + _sndQueue.First.Length))
            {
                break;
            }

            var seg = _sndQueue.PopFront();
            seg.Sn = _snd_nxt;
            _sndBuf.PushBack(seg);
            _snd_nxt++;
            newSegsCount++;
        }

        var resent = _fastresend > 0 ? (uint)_fastresend : 0xFFFFFFFF;
        ulong change = 0, lostSegs = 0, fastRetransSegs = 0, earlyRetransSegs = 0;
        var minrto = (int)_interval;
        var nearestDue = int.MaxValue;
        var probeDelay = TailLossProbe && TailLossProbeRule.Applies(_snd_nxt - _snd_una, _sndQueue.Count)
            ? TailLossProbeRule.Delay(_rx_srtt, _rx_rttvar)
            : 0u;

        for (var k = 0; k < _sndBuf.Count; k++)
        {
            ref var segment = ref _sndBuf[k];
            if (segment.Acked)
            {
                continue;
            }

            if (bbr is not null && !bbr.HasTokens
                && (segment.Xmit == 0 || segment.FastAck > 0 || TimeDiff(current, segment.ResendTs) >= 0))
            {
                // Out of pacing tokens: what is due waits, unchanged, for the tick Check asks for.
                bbr.Defer();
                continue;
            }

            var needsend = false;
            var probing = false;
            if (segment.Xmit == 0)
            {
                needsend = true;
                segment.Rto = _rx_rto;
                segment.ResendTs = current + segment.Rto;
            }
            else if (segment.FastAck >= resent)
            {
                needsend = true;
                segment.FastAck = 0;
                segment.Rto = _rx_rto;
                segment.ResendTs = current + segment.Rto;
                change++;
                fastRetransSegs++;
            }
            else if (segment.FastAck > 0 && newSegsCount == 0)
            {
                needsend = true;
                segment.FastAck = 0;
                segment.Rto = _rx_rto;
                segment.ResendTs = current + segment.Rto;
                change++;
                earlyRetransSegs++;
            }
            else if (TimeDiff(current, segment.ResendTs) >= 0
                && !(HoldTimeoutsWhileAcked && _snd_nxt - _snd_una >= AckClock.MinInFlight
                     && _ackClock.TryRearm(current, _rx_rto, ref segment.ResendTs)))
            {
                needsend = true;
                segment.Rto += _nodelay == 0 ? _rx_rto : _rx_rto / 2;
                segment.FastAck = 0;
                segment.ResendTs = current + segment.Rto;
                lostSegs++;
            }
            else if (probeDelay != 0 && !segment.Probed && TimeDiff(current, segment.Ts + probeDelay) >= 0)
            {
                // A probe, not a retransmission: the rto keeps its schedule and backoff, xmit (the dead-link count)
                // is unchanged, and the segment is probed at most once per transmission.
                needsend = probing = true;
                segment.Probed = true;
                _tailLossProbes++;
            }

            if (needsend)
            {
                if (Clock is { } clock)
                {
                    current = clock();
                    if (!probing)
                    {
                        segment.ResendTs = current + segment.Rto;
                    }
                }

                if (!probing)
                {
                    segment.Xmit++;
                    segment.Ts = current;
                    segment.Probed = false;
                }

                MakeSpace(IKCP_OVERHEAD + segment.Length);
                WriteHeader(KcpCommand.Push, segment.Frg, wnd, current, segment.Sn, una, segment.Length);
                segment.Payload.CopyTo(_buffer.AsSpan(_pos));
                _pos += segment.Length;
                bbr?.OnSent(segment.Sn, IKCP_OVERHEAD + segment.Length, current);

                if (segment.Xmit >= _dead_link)
                {
                    _state = 0xFFFFFFFF;
                }
            }

            var rto = TimeDiff(segment.ResendTs, current);
            if (rto > 0 && rto < minrto)
            {
                minrto = rto;
            }

            nearestDue = Math.Min(nearestDue, Math.Max(rto, 1));
            if (probeDelay != 0 && !segment.Probed)
            {
                var probeIn = TimeDiff(segment.Ts + probeDelay, current);
                minrto = probeIn > 0 ? Math.Min(minrto, probeIn) : minrto;
                nearestDue = Math.Min(nearestDue, Math.Max(probeIn, 1));
            }
        }

        _retransmitPending = nearestDue != int.MaxValue;
        _retransmitDue = _retransmitPending ? current + (uint)nearestDue : 0;
        EmitBuffer();
        bbr?.EndFlush(_sndQueue.Count == 0);

        _lostSegs += lostSegs;
        _fastRetrans += fastRetransSegs;
        _earlyRetrans += earlyRetransSegs;

        if (!_nocwnd && bbr is null)
        {
            // Rate halving (RFC 6937) on fast/early retransmits, as kcp-go: uint arithmetic wraps like Go's.
            if (change > 0)
            {
                var inflight = _snd_nxt - _snd_una;
                _ssthresh = Math.Max(inflight / 2, IKCP_THRESH_MIN);
                _cwnd = _ssthresh + resent;
                _incr = _cwnd * _mss;
            }

            if (lostSegs > 0)
            {
                _ssthresh = Math.Max(cwnd / 2, IKCP_THRESH_MIN);
                _cwnd = 1;
                _incr = _mss;
            }

            if (_cwnd < 1)
            {
                _cwnd = 1;
                _incr = _mss;
            }
        }

        return (uint)minrto;
    }
}
