namespace KcpKestrel.Transport.UserTcp.Tcp;

/// <summary>Segment arrival: RFC 9293 §3.10.7 with RFC 5961's checks and RFC 7323's PAWS.</summary>
internal sealed partial class TcpConnection
{
    /// <summary>A segment of this flow (RFC 9293 §3.10.7 "SEGMENT ARRIVES", with RFC 5961's checks).</summary>
    public void OnSegment(in TcpHeader header, ReadOnlySpan<byte> payload, uint now)
    {
        _segmentsReceived++;
        Owner.Counters.SegmentsReceived++;
        switch (State)
        {
            case TcpState.Closed:
            case TcpState.Listen:
                Owner.Counters.DroppedInvalidState++;
                return;
            case TcpState.SynSent:
                OnSegmentSynSent(header, now);
                break;
            default:
                OnSegmentSynchronized(header, payload, now);
                break;
        }

        if (State != TcpState.Closed)
        {
            Transmit(now);
            UpdateTimer();
        }
    }

    private void OnSegmentSynSent(in TcpHeader h, uint now)
    {
        var counters = Owner.Counters;
        var hasAck = h.Has(TcpFlags.Ack);
        if (hasAck && (Sequence.Le(h.Ack, _iss) || Sequence.Gt(h.Ack, _sndNxt)))
        {
            counters.DroppedBadAck++;
            if (!h.Has(TcpFlags.Rst))
            {
                SendReset(h.Ack, 0, withAck: false);
            }

            return;
        }

        if (h.Has(TcpFlags.Rst))
        {
            if (hasAck)
            {
                counters.ResetsReceived++;
                Terminate(TcpCloseReason.Refused, notify: true);
            }
            else
            {
                counters.RstIgnored++;
            }

            return;
        }

        if (!h.Has(TcpFlags.Syn))
        {
            counters.DroppedInvalidState++;
            return;
        }

        TakePeerSyn(h, offered: true);
        _lastHeard = now;
        if (hasAck)
        {
            SampleRtt(h, h.Ack, now);
            _sndUna = h.Ack;
            _sndWl2 = h.Ack;
            _retries = 0;
            Establish(now);
            SendAck(now);
            return;
        }

        // Simultaneous open (RFC 9293 §3.5, figure 8): SYN-RECEIVED, SYN-ACK with the same ISS.
        State = TcpState.SynReceived;
        SendSyn(now);
        ArmRetransmit(now);
    }

    private void OnSegmentSynchronized(in TcpHeader h, ReadOnlySpan<byte> payload, uint now)
    {
        var counters = Owner.Counters;
        var rst = h.Has(TcpFlags.Rst);
        var syn = h.Has(TcpFlags.Syn);

        if (syn && !rst && !h.Has(TcpFlags.Ack))
        {
            if (State == TcpState.TimeWait && MayReopen(h))
            {
                Reopen(h, now);
                return;
            }

            if (State == TcpState.SynReceived && h.Seq == _irs)
            {
                SendSyn(now); // the peer's SYN was retransmitted: our SYN-ACK was lost
                return;
            }
        }

        // PAWS (RFC 7323 §5.3): a segment older than TS.Recent is a duplicate from the past.
        if (_timestamps && h.Options.HasTimestamps && !rst && Sequence.Lt(h.Options.TsVal, _tsRecent))
        {
            counters.DroppedPaws++;
            SendAck(now);
            return;
        }

        if (syn && !rst)
        {
            // RFC 5961 §4.2: a SYN in any synchronized state gets a challenge ACK (from the budget), whatever its
            // sequence number; in the window or out of it, it never resets the connection.
            counters.SynIgnored++;
            SendChallengeAck(now);
            return;
        }

        var segLength = payload.Length + (h.Has(TcpFlags.Fin) ? 1 : 0);
        var window = ReceiveWindow();
        if (!Acceptable(h.Seq, segLength, window))
        {
            if (rst)
            {
                counters.RstIgnored++;
                return;
            }

            if (Sequence.Lt(h.Seq + (uint)segLength, _rcvNxt) || (segLength > 0 && h.Seq + (uint)segLength == _rcvNxt))
            {
                counters.DuplicateSegments++;
            }
            else
            {
                counters.DroppedOutOfWindow++;
            }

            if (State == TcpState.TimeWait && h.Has(TcpFlags.Fin))
            {
                _idleDue = now + (uint)Options.TimeWaitMs; // a retransmitted FIN restarts 2 MSL (RFC 9293 §3.10.7.4)
            }

            SendOutOfWindowAck(hasData: payload.Length > 0 && !syn, now);

            // RFC 9293: with a zero window, a segment at RCV.NXT still carries a valid ACK.
            if (window == 0 && h.Seq == _rcvNxt && h.Has(TcpFlags.Ack))
            {
                ProcessAck(h, payload.Length, now);
            }

            return;
        }

        _lastHeard = now;
        _keepAliveProbes = 0;

        if (rst)
        {
            OnReset(h, now);
            return;
        }

        if (!h.Has(TcpFlags.Ack))
        {
            counters.DroppedInvalidState++;
            return;
        }

        if (_timestamps && h.Options.HasTimestamps && Sequence.Le(h.Seq, _lastAckSent))
        {
            _tsRecent = h.Options.TsVal;
        }

        if (State == TcpState.SynReceived)
        {
            if (!Sequence.Lt(_sndUna, h.Ack) || Sequence.Gt(h.Ack, _sndNxt))
            {
                counters.DroppedBadAck++;
                SendReset(h.Ack, 0, withAck: false);
                return;
            }

            Establish(now);
            if (State == TcpState.Closed)
            {
                return;
            }
        }

        // RFC 5961 §5: an ACK outside [SND.UNA - MAX.SND.WND, SND.MAX] is dropped with a challenge ACK.
        if (Sequence.Gt(h.Ack, _sndMax) || Sequence.Lt(h.Ack, _sndUna - (uint)Math.Max(_maxSndWnd, 1)))
        {
            counters.DroppedBadAck++;
            SendChallengeAck(now);
            return;
        }

        ProcessAck(h, payload.Length, now);
        if (State is TcpState.Closed or TcpState.TimeWait)
        {
            return;
        }

        if (State is TcpState.Established or TcpState.FinWait1 or TcpState.FinWait2)
        {
            ProcessData(h, payload, now);
        }
    }

    /// <summary>RFC 9293 §3.10.7.4's acceptability table against RCV.NXT and RCV.WND.</summary>
    private bool Acceptable(uint seq, int length, int window)
    {
        var end = _rcvNxt + (uint)window;
        if (length == 0)
        {
            return window == 0 ? seq == _rcvNxt : Sequence.InRange(seq, _rcvNxt, end);
        }

        return window != 0
            && (Sequence.InRange(seq, _rcvNxt, end) || Sequence.InRange(seq + (uint)length - 1, _rcvNxt, end));
    }

    /// <summary>RFC 5961 §3: only an RST exactly at RCV.NXT resets; one elsewhere in the window gets a challenge ACK.</summary>
    private void OnReset(in TcpHeader h, uint now)
    {
        var counters = Owner.Counters;
        if (h.Seq != _rcvNxt)
        {
            counters.RstIgnored++;
            SendChallengeAck(now);
            return;
        }

        counters.ResetsReceived++;
        if (State == TcpState.SynReceived)
        {
            // A passive open nobody accepted yet just goes (RFC 9293: back to LISTEN, which the stack owns);
            // a simultaneous open was refused.
            Terminate(_passive ? TcpCloseReason.Reset : TcpCloseReason.Refused, notify: !_passive);
            return;
        }

        Terminate(State is TcpState.Closing or TcpState.LastAck ? TcpCloseReason.Closed : TcpCloseReason.Reset, notify: true);
    }

    /// <summary>
    /// RFC 6191-lite: a SYN to a TIME-WAIT connection may reopen it when it is newer: not older than TS.Recent
    /// (PAWS) and either its sequence number above RCV.NXT or its timestamp above TS.Recent (as Linux decides).
    /// </summary>
    private bool MayReopen(in TcpHeader syn)
    {
        var hasTs = _timestamps && syn.Options.HasTimestamps;
        if (hasTs && Sequence.Lt(syn.Options.TsVal, _tsRecent))
        {
            return false; // PAWS: an old duplicate SYN
        }

        return Sequence.Gt(syn.Seq, _rcvNxt) || (hasTs && Sequence.Gt(syn.Options.TsVal, _tsRecent));
    }

    /// <summary>
    /// Reuses this TIME-WAIT connection for the new incarnation: every per-incarnation field is reset and the SYN is
    /// taken as a passive open whose ISS lies well above anything the old one sent, so no old duplicate can be
    /// mistaken for new data. The stack sees it as a passive open (OnPassiveEstablished), not a release.
    /// </summary>
    private void Reopen(in TcpHeader syn, uint now)
    {
        var iss = _sndMax + (2 * 65536u);
        Owner.Counters.TimeWaitReused++;
        _send.Release(Options.BufferPool);
        _receive.Release(Options.BufferPool);
        _scoreboard.Clear();
        _rtt = default;
        _cc = default;
        _timers = ConnectionTimers.None;
        _retries = _persistProbes = _keepAliveProbes = _fullSegmentsUnacked = 0;
        _finQueued = _finReceived = _peerFinPending = _wantSendable = _closedNotified = false;
        _rttTiming = false;
        Events = null;
        OpenPassive(syn, iss, now);
    }
}
