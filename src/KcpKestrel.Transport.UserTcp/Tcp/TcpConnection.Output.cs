namespace KcpKestrel.Transport.UserTcp.Tcp;

/// <summary>What goes out: new data within min(peer window, cwnd, rate tokens), SACK-guided retransmissions, FIN, ACKs, SYNs and RSTs.</summary>
internal sealed partial class TcpConnection
{
    private uint TsNow(uint now) => now + _tsOffset;

    /// <summary>Sends what the windows and the rate limit allow now; arms the persist timer when the peer's window is shut.</summary>
    private void Transmit(uint now)
    {
        if (State is not (TcpState.Established or TcpState.CloseWait or TcpState.FinWait1 or TcpState.Closing or TcpState.LastAck))
        {
            return;
        }

        var mss = SegmentPayload;
        if (_cc.InRecovery && _sack)
        {
            RetransmitHoles(now, mss);
        }

        // RFC 5681 §4.1: after an idle period longer than the RTO, restart from the initial window, not with a
        // burst of a window that was measured long ago.
        if (Flight == 0 && _cc.Cwnd > 10 * mss && (int)(now - _lastDataSent) > _rtt.RtoMs)
        {
            _cc.Cwnd = 10 * mss;
        }

        while (true)
        {
            var offset = (int)(_sndNxt - _sndBufSeq);
            var unsent = _send.Count - offset;
            var finDue = _finQueued && _sndNxt == FinSeq;
            if (unsent <= 0 && !finDue)
            {
                break;
            }

            var usable = Usable();
            if (unsent <= 0)
            {
                // Only the FIN is left: it needs no window (RFC 9293 lets it ride on any segment).
                SendSegment(_sndNxt, TcpFlags.Ack | TcpFlags.Fin, 0, 0, now);
                AdvanceSent(1, now);
                break;
            }

            var length = Math.Min(unsent, Math.Min(mss, usable));
            if (length <= 0)
            {
                if (_sndWnd == 0 && Flight == 0)
                {
                    ArmPersist(now);
                }

                break;
            }

            if (length < mss && length < unsent && Flight > 0)
            {
                break; // sender SWS avoidance (RFC 1122 §4.2.3.4): wait for a full segment's room
            }

            if (!Options.NoDelay && length < mss && Flight > 0)
            {
                break; // Nagle (RFC 896): one small segment in flight at a time
            }

            if (_bucket is not null || _rateLimit > 0)
            {
                if (!TakeTokens(length, now))
                {
                    break;
                }
            }

            var fin = _finQueued && length == unsent;
            var retransmission = Sequence.Lt(_sndNxt, _sndMax);
            SendSegment(_sndNxt, fin ? TcpFlags.Ack | TcpFlags.Psh | TcpFlags.Fin : TcpFlags.Ack | TcpFlags.Psh, offset, length, now);
            // After a go-back-N a segment may start below SND.MAX and end past it: only the part past it is new.
            var end = _sndNxt + (uint)length;
            var fresh = Sequence.Gt(end, _sndMax) ? (int)(end - Sequence.Max(_sndNxt, _sndMax)) : 0;
            _bytesSent += fresh;
            Owner.Counters.BytesSent += fresh;
            if (retransmission)
            {
                _retransmits++;
                Owner.Counters.Retransmits++;
            }
            else
            {
                if (!_rttTiming && !_timestamps)
                {
                    _rttTiming = true;
                    _rttSeq = _sndNxt;
                    _rttStart = now;
                }
            }

            _lastDataSent = now;
            AdvanceSent(length + (fin ? 1 : 0), now);
        }
    }

    /// <summary>Bytes the windows allow beyond SND.NXT: min(peer window, cwnd) less what is in flight, or cwnd less the pipe in SACK recovery (RFC 6675).</summary>
    private int Usable()
    {
        if (_cc.InRecovery && _sack)
        {
            var peerRoom = (int)((long)_sndUna + _sndWnd - _sndNxt);
            return Math.Min(_cc.Cwnd - Pipe(), peerRoom);
        }

        // Limited transmit (RFC 3042): the first two duplicate ACKs each let one new segment out, to keep the ACK
        // clock running toward the third.
        var cwnd = _cc.Cwnd + (_cc.DupAcks is 1 or 2 ? _cc.DupAcks * SegmentPayload : 0);
        var window = Math.Min(_sndWnd, cwnd);
        return (int)Math.Max(0, (long)window - (int)(_sndNxt - _sndUna));
    }

    /// <summary>Whether unsent data could go out now (the early-retransmit rule asks).</summary>
    private bool HasSendableData() => _send.Count - (int)(_sndNxt - _sndBufSeq) > 0 && Usable() > 0;

    /// <summary>
    /// RFC 6675's pipe, approximated: what is outstanding, less what the peer SACKed, less the holes below the
    /// highest SACK (deemed lost), plus the holes already retransmitted.
    /// </summary>
    private int Pipe()
    {
        if (_scoreboard.IsEmpty)
        {
            return Flight;
        }

        var highest = _scoreboard.HighestSacked;
        var lost = _scoreboard.HoleBytesBelow(_sndUna, highest);
        var resent = _scoreboard.HoleBytesBelow(_sndUna, Sequence.Min(_highRxt, highest));
        return Math.Max(0, Flight - _scoreboard.SackedBytes - lost + resent);
    }

    /// <summary>SACK recovery: resends holes below the highest SACK, oldest first, while the pipe has room.</summary>
    private void RetransmitHoles(uint now, int mss)
    {
        while (_cc.Cwnd - Pipe() > 0 && _scoreboard.NextHole(Sequence.Max(_highRxt, _sndUna), out var start, out var end))
        {
            var length = (int)Math.Min(end - start, (uint)mss);
            if (!ResendAt(start, length, now))
            {
                break;
            }

            _highRxt = start + (uint)length;
        }
    }

    /// <summary>Resends the first unacknowledged segment (fast retransmit, a NewReno partial ACK).</summary>
    private void RetransmitFirst(uint now)
    {
        var length = Math.Min(SegmentPayload, (int)(_sndMax - _sndUna));
        if (ResendAt(_sndUna, length, now))
        {
            _highRxt = Sequence.Max(_highRxt, _sndUna + (uint)length);
        }
    }

    /// <summary>Resends [seq, seq + length) of data (or the FIN, when that is what sits there).</summary>
    private bool ResendAt(uint seq, int length, uint now)
    {
        var offset = (int)(seq - _sndBufSeq);
        var dataLeft = _send.Count - offset;
        if (offset < 0 || length <= 0)
        {
            return false;
        }

        var flags = TcpFlags.Ack;
        if (dataLeft <= 0)
        {
            if (!_finQueued)
            {
                return false;
            }

            flags |= TcpFlags.Fin;
            length = 0;
        }
        else if (length > dataLeft)
        {
            length = dataLeft;
        }

        _bucket?.Take(length); // retransmissions spend tokens too (into debt: recovery is not delayed)
        SendSegment(seq, flags, offset, length, now);
        _retransmits++;
        Owner.Counters.Retransmits++;
        _rttTiming = false; // Karn
        return true;
    }

    private void AdvanceSent(int length, uint now)
    {
        _sndNxt += (uint)length;
        if (Sequence.Gt(_sndNxt, _sndMax))
        {
            _sndMax = _sndNxt;
        }

        if ((_timers & ConnectionTimers.Retransmit) == 0)
        {
            ArmRetransmit(now);
        }
    }

    private bool TakeTokens(int length, uint now)
    {
        if (_rateLimit <= 0)
        {
            return true;
        }

        _bucket ??= new Shared.TokenBucket(_rateLimit, BurstFor(_rateLimit));
        _bucket.RefillMs(now);
        if (_bucket.TryTake(length))
        {
            return true;
        }

        // Wake when the tokens for this segment will have accrued.
        var wait = (int)Math.Ceiling(_bucket.SecondsUntil(length) * 1000);
        _rateDue = now + (uint)Math.Max(1, wait);
        _timers |= ConnectionTimers.RateLimit;
        return false;
    }

    /// <summary>Sends one segment with ACK, window, timestamps and SACK blocks; payload from the send ring.</summary>
    private void SendSegment(uint seq, TcpFlags flags, int offset, int length, uint now)
    {
        var header = default(TcpHeader);
        header.Seq = seq;
        header.Ack = _rcvNxt;
        header.Flags = flags;
        header.Window = AdvertiseWindow();
        if (_timestamps)
        {
            header.Options.HasTimestamps = true;
            header.Options.TsVal = TsNow(now);
            header.Options.TsEcr = _tsRecent;
        }

        if (_sack && _receive.HasOutOfOrder)
        {
            // Options come out of the MSS (RFC 9293 §3.7.1): a full data segment has no room for SACK blocks (2 NOPs,
            // kind and length, 8 bytes a block); they ride on bare ACKs. Without this a full segment with SACK blocks
            // is larger than the MTU and never leaves: with data and out-of-order data both ways, a stall.
            var room = _sndMss - length - (_timestamps ? 12 : 0) - 4;
            var blocks = Math.Min(_timestamps ? 3 : 4, room < 0 ? 0 : room / 8);
            if (blocks > 0)
            {
                header.Options.SackCount = (byte)_receive.WriteSackBlocks(ref header.Options.Sack, blocks);
            }
        }

        _send.Peek(offset, length, Options.SendBufferSize, out var first, out var second);
        Emit(header, first, second);
        _lastAckSent = _rcvNxt;
        _fullSegmentsUnacked = 0;
        _timers &= ~ConnectionTimers.DelayedAck;
    }

    /// <summary>
    /// A bare ACK (also a window update, a duplicate ACK, the answer to an unacceptable segment). Its sequence number
    /// is SND.MAX, not SND.NXT: after a go-back-N SND.NXT sits below what the peer already received, and an ACK
    /// there is out of its window, so it would drop it unread (and answer with an ACK of its own, which we could
    /// find just as unacceptable: two stacks stuck trading ACKs while no data moves).
    /// </summary>
    private void SendAck(uint now) => SendSegment(_sndMax, TcpFlags.Ack, 0, 0, now);

    /// <summary>
    /// The ACK that answers an unacceptable segment. For one without data (a bare ACK, or a SYN), at most one per
    /// <see cref="OutOfWindowAckIntervalMs"/> (Linux's tcp_invalid_ratelimit), so no two stacks can ever ping-pong
    /// ACKs; a duplicate data segment is always answered, as the sender's loss recovery relies on it.
    /// </summary>
    private void SendOutOfWindowAck(bool hasData, uint now)
    {
        if (!hasData)
        {
            if (_outOfWindowAckSent && (int)(now - _lastOutOfWindowAck) < OutOfWindowAckIntervalMs)
            {
                Owner.Counters.OutOfWindowAcksLimited++;
                return;
            }

            _outOfWindowAckSent = true;
            _lastOutOfWindowAck = now;
        }

        SendAck(now);
    }

    /// <summary>An ACK from the stack-wide RFC 5961 budget.</summary>
    private void SendChallengeAck(uint now)
    {
        if (Owner.TryTakeChallengeAck(now))
        {
            Owner.Counters.ChallengeAcksSent++;
            SendAck(now);
        }
    }

    /// <summary>A probe at SND.UNA - 1 (zero-window or keep-alive): out of the peer's window, so it must answer with an ACK.</summary>
    private void SendProbe(uint now) => SendSegment(_sndUna - 1, TcpFlags.Ack, 0, 0, now);

    /// <summary>SYN (SYN-SENT) or SYN-ACK (SYN-RECEIVED) with the options this side offers or accepts.</summary>
    private void SendSyn(uint now)
    {
        var header = default(TcpHeader);
        header.Seq = _iss;
        header.Flags = TcpFlags.Syn;
        header.Window = (ushort)Math.Min(Options.ReceiveBufferSize, ushort.MaxValue);
        header.Options.Mss = Options.Mss;
        var synAck = State == TcpState.SynReceived;
        if (synAck)
        {
            header.Flags |= TcpFlags.Ack;
            header.Ack = _rcvNxt;
        }

        if (synAck ? _rcvWscale > 0 || (Options.WindowScaling && _sndWscale > 0) : Options.WindowScaling)
        {
            header.Options.HasWindowScale = true;
            header.Options.WindowScale = _rcvWscale;
        }

        header.Options.SackPermitted = synAck ? _sack : Options.Sack;
        if (synAck ? _timestamps : Options.Timestamps)
        {
            header.Options.HasTimestamps = true;
            header.Options.TsVal = TsNow(now);
            header.Options.TsEcr = synAck ? _tsRecent : 0;
        }

        Emit(header, default, default);
    }

    private void SendReset(uint seq, uint ack, bool withAck)
    {
        var header = default(TcpHeader);
        header.Seq = seq;
        header.Ack = withAck ? ack : 0;
        header.Flags = withAck ? TcpFlags.Rst | TcpFlags.Ack : TcpFlags.Rst;
        Owner.Counters.ResetsSent++;
        Emit(header, default, default);
    }

    private void Emit(in TcpHeader header, ReadOnlySpan<byte> payload, ReadOnlySpan<byte> tail)
    {
        _segmentsSent++;
        Owner.Counters.SegmentsSent++;
        Owner.Output.Send(Flow, header, payload, tail);
    }
}
