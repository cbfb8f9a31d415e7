namespace KcpKestrel.Transport.UserTcp.Tcp;

/// <summary>The receiver's side: segment text into the reassembly ring, the peer's FIN, ACK timing and the advertised window.</summary>
internal sealed partial class TcpConnection
{
    private void ProcessData(in TcpHeader h, ReadOnlySpan<byte> payload, uint now)
    {
        var counters = Owner.Counters;
        var seq = h.Seq;
        var fin = h.Has(TcpFlags.Fin);
        var ackNow = false;
        var delivered = false;

        // Trim what was already received, then what lies beyond the window (a FIN beyond it is cut off too).
        if (Sequence.Lt(seq, _rcvNxt))
        {
            var skip = (int)(_rcvNxt - seq);
            if (skip >= payload.Length)
            {
                if (!payload.IsEmpty)
                {
                    counters.DuplicateSegments++;
                    ackNow = true;
                }

                payload = default;
            }
            else
            {
                payload = payload[skip..];
            }

            seq = _rcvNxt;
        }

        var room = (int)(_rcvNxt + (uint)ReceiveWindow() - seq);
        if (payload.Length > room)
        {
            payload = payload[..Math.Max(room, 0)];
            fin = false;
        }

        if (!payload.IsEmpty)
        {
            var hadHoles = _receive.HasOutOfOrder;
            var advanced = _receive.Write(_rcvNxt, seq, payload, Options.ReceiveBufferSize, Options.BufferPool);
            if (advanced > 0)
            {
                _rcvNxt += (uint)advanced;
                _bytesReceived += advanced;
                counters.BytesReceived += advanced;
                delivered = true;
                ackNow |= hadHoles; // RFC 5681 §4.2: a segment that fills a hole is acked at once
                if (payload.Length >= SegmentPayload && ++_fullSegmentsUnacked >= 2)
                {
                    ackNow = true; // RFC 1122 §4.2.3.2 / RFC 5681: every second full-sized segment
                }
            }
            else
            {
                if (advanced < 0)
                {
                    counters.DroppedReassemblyFull++;
                }
                else
                {
                    counters.OutOfOrderSegments++;
                }

                ackNow = true; // RFC 5681 §4.2: out of order gets an immediate (duplicate, SACK-bearing) ACK
            }
        }

        if (fin)
        {
            var finSeq = seq + (uint)payload.Length;
            if (Sequence.Ge(finSeq, _rcvNxt))
            {
                _peerFinPending = true;
                _peerFinSeq = finSeq;
            }
        }

        if (_peerFinPending && _peerFinSeq == _rcvNxt)
        {
            _peerFinPending = false;
            _rcvNxt++;
            _finReceived = true;
            delivered = true;
            ackNow = true;
            switch (State)
            {
                case TcpState.Established:
                    State = TcpState.CloseWait;
                    break;
                case TcpState.FinWait1:
                    // Our FIN not yet acked (else ProcessAck moved on): simultaneous close.
                    State = TcpState.Closing;
                    break;
                case TcpState.FinWait2:
                    // Acked once, now: no delayed ACK may follow into TIME-WAIT (the peer, gone from LAST-ACK by
                    // then, answers a stray one with an RST).
                    SendAck(now);
                    EnterTimeWait(now);
                    ackNow = false;
                    break;
                default:
                    break;
            }
        }

        if (ackNow || (delivered && Options.DelayedAckMs <= 0))
        {
            SendAck(now);
        }
        else if (delivered && State != TcpState.TimeWait && (_timers & ConnectionTimers.DelayedAck) == 0)
        {
            _ackDue = now + (uint)Options.DelayedAckMs;
            _timers |= ConnectionTimers.DelayedAck;
        }

        if (delivered)
        {
            Events?.OnReceivable(this);
        }
    }

    /// <summary>RCV.WND: the ring's free room (out-of-order bytes sit inside it).</summary>
    private int ReceiveWindow()
    {
        if (_finReceived)
        {
            return 0;
        }

        var free = Options.ReceiveBufferSize - _receive.Readable;
        return Math.Min(free, ushort.MaxValue << _rcvWscale);
    }

    /// <summary>
    /// The window to advertise, already shifted: the free room, except that the right edge only moves once it can
    /// move by min(half the buffer, one MSS) (receiver SWS avoidance, RFC 1122 §4.2.3.3). Never shrinks the edge.
    /// </summary>
    private ushort AdvertiseWindow()
    {
        var free = ReceiveWindow();
        var edge = _rcvNxt + (uint)free;
        var offered = Sequence.Gt(_rcvAdvEdge, _rcvNxt) ? (int)(_rcvAdvEdge - _rcvNxt) : 0;
        var threshold = Math.Min(Options.ReceiveBufferSize / 2, (int)_sndMss);
        if (Sequence.Gt(edge, _rcvAdvEdge) && (int)(edge - _rcvAdvEdge) < threshold && offered < free)
        {
            free = offered; // hold the edge still until the gain is worth a segment
        }

        var wire = Math.Min(free >> _rcvWscale, ushort.MaxValue);
        _rcvAdvEdge = Sequence.Max(_rcvAdvEdge, _rcvNxt + ((uint)wire << _rcvWscale));
        return (ushort)wire;
    }

    /// <summary>After the app read: whether the window grew enough to tell the peer (RFC 1122 §4.2.3.3).</summary>
    private bool WindowUpdateDue()
    {
        var edge = _rcvNxt + (uint)ReceiveWindow();
        var threshold = Math.Min(Options.ReceiveBufferSize / 2, (int)_sndMss);
        return Sequence.Gt(edge, _rcvAdvEdge) && (int)(edge - _rcvAdvEdge) >= threshold;
    }
}
