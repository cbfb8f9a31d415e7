namespace KcpKestrel.Transport.UserTcp.Tcp;

/// <summary>
/// The deadlines (retransmission, persist, delayed ACK, keep-alive, TIME_WAIT, rate limit), kept as fields and
/// served by one timer-wheel entry, the connection itself, scheduled at the earliest.
/// </summary>
internal sealed partial class TcpConnection
{
    public override void OnTimer(uint now)
    {
        var due = _timers;
        if ((due & ConnectionTimers.TimeWait) != 0 && Sequence.Ge(now, _idleDue))
        {
            Terminate(TcpCloseReason.Closed, notify: false);
            return;
        }

        if ((due & ConnectionTimers.Retransmit) != 0 && Sequence.Ge(now, _rtoDue))
        {
            _timers &= ~ConnectionTimers.Retransmit;
            OnRetransmitTimeout(now);
        }
        else if ((due & ConnectionTimers.Persist) != 0 && Sequence.Ge(now, _rtoDue))
        {
            _timers &= ~ConnectionTimers.Persist;
            OnPersistTimeout(now);
        }

        if (State == TcpState.Closed)
        {
            return;
        }

        if ((_timers & ConnectionTimers.KeepAlive) != 0 && Sequence.Ge(now, _idleDue))
        {
            OnKeepAliveTimeout(now);
            if (State == TcpState.Closed)
            {
                return;
            }
        }

        if ((_timers & ConnectionTimers.DelayedAck) != 0 && Sequence.Ge(now, _ackDue))
        {
            Owner.Counters.DelayedAcks++;
            SendAck(now);
        }

        if ((_timers & ConnectionTimers.RateLimit) != 0 && Sequence.Ge(now, _rateDue))
        {
            _timers &= ~ConnectionTimers.RateLimit;
        }

        Transmit(now);
        UpdateTimer();
    }

    private void OnRetransmitTimeout(uint now)
    {
        var counters = Owner.Counters;
        counters.RtoExpirations++;
        _retries++;
        _rttTiming = false; // Karn: nothing sent before this is timed
        if (State is TcpState.SynSent or TcpState.SynReceived)
        {
            if (_retries > Options.MaxSynRetransmits)
            {
                Terminate(TcpCloseReason.TimedOut, notify: !_passive);
                return;
            }

            _rtt.Backoff(Options.MaxRtoMs);
            _retransmits++;
            counters.Retransmits++;
            SendSyn(now);
            ArmRetransmit(now);
            return;
        }

        if (Flight == 0)
        {
            return;
        }

        if (_retries > Options.MaxRetransmits)
        {
            Terminate(TcpCloseReason.TimedOut, notify: true);
            return;
        }

        // RFC 6298 §5.4-5.6 and RFC 5681 §3.1: back off, one segment of window, resend from SND.UNA (go-back-N;
        // RFC 2018 §8: prior SACK information is not trusted after a timeout).
        _rtt.Backoff(Options.MaxRtoMs);
        _cc.OnTimeout(Flight, SegmentPayload);
        _scoreboard.Clear();
        _sndNxt = _sndUna;
        _highRxt = _sndUna;
        ArmRetransmit(now);
        if (_sndNxt == FinSeq && _finQueued)
        {
            ResendAt(_sndUna, 1, now); // only the FIN is outstanding
            _sndNxt = _sndUna + 1;
        }
        else if (_sndWnd == 0)
        {
            // The window shut with data still unacknowledged: resend the first segment anyway (RFC 9293 §3.8.6.1
            // allows it), so the peer answers with its current window and the connection does not stall.
            RetransmitFirst(now);
            _sndNxt = Sequence.Max(_sndNxt, _highRxt);
        }
    }

    private void OnPersistTimeout(uint now)
    {
        if (_sndWnd > 0 || Flight > 0)
        {
            return;
        }

        Owner.Counters.ZeroWindowProbes++;
        SendProbe(now);
        if (_persistProbes < 30)
        {
            _persistProbes++;
        }

        ArmPersist(now);
    }

    private void OnKeepAliveTimeout(uint now)
    {
        var idle = (uint)Options.KeepAliveIdleMs;
        if (Flight > 0 || State is not (TcpState.Established or TcpState.CloseWait or TcpState.FinWait1 or TcpState.FinWait2))
        {
            _idleDue = now + idle; // the retransmission timer covers a busy connection
            return;
        }

        if (_keepAliveProbes == 0 && Sequence.Lt(now, _lastHeard + idle))
        {
            _idleDue = _lastHeard + idle; // heard from since: the idle period restarts then
            return;
        }

        if (_keepAliveProbes >= Options.KeepAliveProbes)
        {
            SendReset(_sndNxt, _rcvNxt, withAck: true);
            Terminate(TcpCloseReason.KeepAliveTimedOut, notify: true);
            return;
        }

        _keepAliveProbes++;
        Owner.Counters.KeepAlivesSent++;
        SendProbe(now);
        _idleDue = now + (uint)Options.KeepAliveIntervalMs;
    }

    private void ArmRetransmit(uint now)
    {
        _rtoDue = now + (uint)_rtt.RtoMs;
        _timers = (_timers & ~ConnectionTimers.Persist) | ConnectionTimers.Retransmit;
    }

    /// <summary>The persist timer: RTO-based, doubling per unanswered probe (RFC 9293 §3.8.6.1), capped at the max RTO.</summary>
    private void ArmPersist(uint now)
    {
        if ((_timers & ConnectionTimers.Persist) != 0)
        {
            return;
        }

        var interval = Math.Min((long)_rtt.RtoMs << Math.Min((int)_persistProbes, 16), Options.MaxRtoMs);
        _rtoDue = now + (uint)interval;
        _timers = (_timers & ~ConnectionTimers.Retransmit) | ConnectionTimers.Persist;
    }

    private void ArmKeepAlive(uint now)
    {
        if (Options.KeepAliveIdleMs > 0)
        {
            _idleDue = now + (uint)Options.KeepAliveIdleMs;
            _timers |= ConnectionTimers.KeepAlive;
        }
    }

    /// <summary>Keeps the one wheel entry at the earliest armed deadline (or off the wheel when none is).</summary>
    private void UpdateTimer()
    {
        var timers = _timers;
        if (timers == ConnectionTimers.None || State == TcpState.Closed)
        {
            Owner.Timers.Remove(this);
            return;
        }

        var earliest = 0u;
        var any = false;
        if ((timers & (ConnectionTimers.Retransmit | ConnectionTimers.Persist)) != 0)
        {
            Earliest(ref earliest, ref any, _rtoDue);
        }

        if ((timers & (ConnectionTimers.KeepAlive | ConnectionTimers.TimeWait)) != 0)
        {
            Earliest(ref earliest, ref any, _idleDue);
        }

        if ((timers & ConnectionTimers.DelayedAck) != 0)
        {
            Earliest(ref earliest, ref any, _ackDue);
        }

        if ((timers & ConnectionTimers.RateLimit) != 0)
        {
            Earliest(ref earliest, ref any, _rateDue);
        }

        Owner.Timers.Schedule(this, earliest);
    }

    private static void Earliest(ref uint earliest, ref bool any, uint due)
    {
        if (!any || Sequence.Lt(due, earliest))
        {
            earliest = due;
            any = true;
        }
    }
}
