namespace KcpKestrel.Transport.UserTcp.Tcp;

/// <summary>The sender's side of an arriving ACK: SND.UNA, the peer's window, RTT samples, SACK, congestion control and recovery.</summary>
internal sealed partial class TcpConnection
{
    private void ProcessAck(in TcpHeader h, int payloadLength, uint now)
    {
        var ack = h.Ack;
        var mss = SegmentPayload;
        var window = h.Window << _sndWscale;
        var windowChanged = window != _sndWnd;
        var newSack = _sack && h.Options.SackCount > 0 && _scoreboard.Add(h.Options, _sndUna, _sndMax);

        if (Sequence.Gt(ack, _sndUna))
        {
            var acked = (int)(ack - _sndUna);
            var flightBefore = Flight;
            SampleRtt(h, ack, now);
            var dataEnd = _sndBufSeq + (uint)_send.Count;
            if (Sequence.Gt(ack, _sndBufSeq))
            {
                var dataAcked = (int)(Sequence.Min(ack, dataEnd) - _sndBufSeq);
                _send.Consume(dataAcked, Options.SendBufferSize, Options.BufferPool);
                _sndBufSeq += (uint)dataAcked;
            }

            _sndUna = ack;
            if (Sequence.Lt(_sndNxt, ack))
            {
                _sndNxt = ack;
            }

            if (Sequence.Lt(_highRxt, ack))
            {
                _highRxt = ack;
            }

            _scoreboard.AckTo(ack);
            _retries = 0;
            if (_cc.InRecovery)
            {
                if (Sequence.Ge(ack, _cc.Recover))
                {
                    _cc.ExitRecovery(Flight, mss);
                }
                else
                {
                    _cc.OnPartialAck(acked, mss, _sack);
                    if (!_sack)
                    {
                        RetransmitFirst(now); // RFC 6582 §3.2 step 5: the next hole, at once
                    }
                }
            }
            else
            {
                _cc.DupAcks = 0;

                // RFC 7661's spirit: an application-limited sender (less than half the window in flight) has not
                // shown the path can take more, so the window does not grow.
                if (2L * flightBefore >= _cc.Cwnd)
                {
                    _cc.OnAck(acked, mss);
                }
            }

            // RFC 6298 §5.3: restart the timer on new data acknowledged; stop it when nothing is outstanding.
            if (Flight > 0)
            {
                _rtoDue = now + (uint)_rtt.RtoMs;
                _timers = (_timers & ~ConnectionTimers.Persist) | ConnectionTimers.Retransmit;
            }
            else
            {
                _timers &= ~ConnectionTimers.Retransmit;
            }

        }
        else if (ack == _sndUna && Flight > 0 && window == 0)
        {
            _retries = 0; // the peer is alive and only full: a shut window is not a reason to time out
        }
        else if (ack == _sndUna && Flight > 0 && payloadLength == 0 && !h.Has(TcpFlags.Fin) && (!windowChanged || newSack))
        {
            OnDuplicateAck(now);
        }

        // RFC 9293 §3.10.7.4: take the window from the newest segment (SND.WL1/WL2 order them).
        if (Sequence.Lt(_sndWl1, h.Seq) || (_sndWl1 == h.Seq && Sequence.Le(_sndWl2, ack)))
        {
            _sndWnd = window;
            _sndWl1 = h.Seq;
            _sndWl2 = ack;
            _maxSndWnd = Math.Max(_maxSndWnd, window);
            if (window > 0)
            {
                _persistProbes = 0;
                _timers &= ~ConnectionTimers.Persist;
            }
        }

        if (_finQueued && Sequence.Gt(ack, FinSeq) && Sequence.Ge(_sndMax, FinSeq + 1))
        {
            OnFinAcked(now);
        }

        // Last, so a user that sends from the event sees the updated window and state.
        if (_wantSendable && SendableBytes > 0)
        {
            _wantSendable = false;
            Events?.OnSendable(this);
        }
    }

    /// <summary>The sequence number our FIN takes (meaningful once it is queued: no data is added after it).</summary>
    private uint FinSeq => _sndBufSeq + (uint)_send.Count;

    private void OnFinAcked(uint now)
    {
        switch (State)
        {
            case TcpState.FinWait1:
                State = TcpState.FinWait2;
                break;
            case TcpState.Closing:
                EnterTimeWait(now);
                break;
            case TcpState.LastAck:
                Notify(TcpCloseReason.Closed);
                Terminate(TcpCloseReason.Closed, notify: false);
                break;
            default:
                break;
        }
    }

    /// <summary>
    /// A duplicate ACK: fast retransmit on the third (or once SACK shows three segments' worth above the hole), or
    /// sooner with fewer than four segments out and nothing new to send (early retransmit, RFC 5827), so a small
    /// window recovers without an RTO; NewReno inflation after.
    /// </summary>
    private void OnDuplicateAck(uint now)
    {
        var mss = SegmentPayload;
        _cc.DupAcks++;
        if (!_cc.InRecovery)
        {
            var threshold = 3;
            var outstanding = (Flight + mss - 1) / mss;
            if (outstanding < 4 && !HasSendableData())
            {
                threshold = Math.Max(1, outstanding - 1);
            }

            var sackSaysLost = _sack && !_scoreboard.IsEmpty && _scoreboard.SackedBytes > (threshold - 1) * mss;
            // RFC 6582 §3.2 step 2: no new recovery for losses from before the last one ended.
            if ((_cc.DupAcks >= threshold || sackSaysLost) && Sequence.Gt(_sndUna, _cc.Recover))
            {
                var useSack = _sack && !_scoreboard.IsEmpty;
                _cc.EnterRecovery(Flight, mss, _sndMax, useSack);
                Owner.Counters.FastRetransmits++;
                if (useSack)
                {
                    Owner.Counters.SackRecoveries++;
                }

                _highRxt = _sndUna;
                RetransmitFirst(now);
            }
        }
        else if (!_sack)
        {
            _cc.Cwnd += mss; // RFC 6582 §3.2 step 4: each further duplicate means a segment left the network
        }
    }

    /// <summary>An RTT sample for an ACK advancing SND.UNA: from the echoed timestamp, else from the one timed segment (Karn).</summary>
    private void SampleRtt(in TcpHeader h, uint ack, uint now)
    {
        if (_timestamps && h.Options.HasTimestamps && h.Options.TsEcr != 0)
        {
            var rtt = (int)(TsNow(now) - h.Options.TsEcr);
            if (rtt >= 0 && rtt < Options.MaxRtoMs)
            {
                _rtt.Sample(rtt, Options.MinRtoMs, Options.MaxRtoMs);
            }

            _rttTiming = false;
            return;
        }

        if (_rttTiming && Sequence.Gt(ack, _rttSeq))
        {
            _rttTiming = false;
            _rtt.Sample((int)(now - _rttStart), Options.MinRtoMs, Options.MaxRtoMs);
        }
    }
}
