using System.Numerics;

namespace KcpKestrel.Core.Congestion;

/// <summary>
/// Delivery-rate sampling (draft-cheng-iccrg-delivery-rate-estimation) over KCP's per-segment acks: each
/// transmission remembers how much had been delivered, and when, at the moment it left; when it is acked,
/// the bytes delivered since then over the time they took is one sample of the rate the path delivers.
/// Also keeps the bytes in flight. Times are the caller's, in ms. Loop thread only; allocates only while
/// its ring grows to the largest span of sn in flight.
/// </summary>
internal sealed class DeliveryRateSampler
{
    private const int InitialSlots = 32;

    private Transmission[] _ring = new Transmission[InitialSlots];

    // Set while the sender is app-limited: samples taken until this much is delivered measure the app, not the path.
    private long _appLimitedUntil;

    // The sample being built from the acks of one input (the most recently sent acked segment wins).
    private long _priorDelivered = -1;
    private uint _sendElapsed, _ackElapsed;
    private bool _sampleAppLimited;
    private long _ackedBytes;

    /// <summary>Bytes acknowledged since the start.</summary>
    public long Delivered { get; private set; }

    /// <summary>When the last bytes were acknowledged (ms).</summary>
    public uint DeliveredTime { get; private set; }

    /// <summary>Bytes sent and not acknowledged (retransmissions of a segment count once).</summary>
    public long InFlight { get; private set; }

    /// <summary>The send time of the most recently sent acked segment: the start of the next sample's send interval.</summary>
    private uint FirstSentTime { get; set; }

    /// <summary>Records the transmission of segment <paramref name="sn"/> of <paramref name="bytes"/> at <paramref name="now"/>.</summary>
    public void OnSent(uint sn, int bytes, uint now)
    {
        if (InFlight == 0)
        {
            // Nothing was in flight: the intervals start now, not at an old ack (idle time is not path time).
            FirstSentTime = DeliveredTime = now;
        }

        ref var slot = ref Slot(sn);
        var retransmission = slot.InFlight && slot.Sn == sn;
        if (!retransmission && slot.InFlight)
        {
            Grow(sn);
            slot = ref Slot(sn);
        }

        if (!retransmission)
        {
            InFlight += bytes;
        }

        slot = new Transmission
        {
            Sn = sn,
            Bytes = retransmission ? slot.Bytes : bytes,
            SentTime = now,
            Delivered = Delivered,
            DeliveredTime = DeliveredTime,
            FirstSentTime = FirstSentTime,
            AppLimited = _appLimitedUntil != 0,
            InFlight = true,
        };
    }

    /// <summary>Segment <paramref name="sn"/> is acknowledged (once; repeats and unknown sn are ignored).</summary>
    public void OnAcked(uint sn, uint now)
    {
        ref var slot = ref Slot(sn);
        if (!slot.InFlight || slot.Sn != sn)
        {
            return;
        }

        slot.InFlight = false;
        InFlight -= slot.Bytes;
        Delivered += slot.Bytes;
        DeliveredTime = now;
        _ackedBytes += slot.Bytes;
        if (slot.Delivered >= _priorDelivered)
        {
            _priorDelivered = slot.Delivered;
            _sampleAppLimited = slot.AppLimited;
            _sendElapsed = slot.SentTime - slot.FirstSentTime;
            _ackElapsed = now - slot.DeliveredTime;
            FirstSentTime = slot.SentTime;
        }
    }

    /// <summary>
    /// Ends the acks of one input: the rate sample they make, when any segment was newly acked. A sample whose
    /// interval is shorter than <paramref name="minRttMs"/> (or the clock's 1 ms) is marked invalid: acks
    /// bunched by the path would overstate the rate.
    /// </summary>
    public bool TryTakeSample(uint minRttMs, out RateSample sample)
    {
        if (_priorDelivered < 0)
        {
            sample = default;
            return false;
        }

        if (_appLimitedUntil != 0 && Delivered > _appLimitedUntil)
        {
            _appLimitedUntil = 0;
        }

        var interval = Math.Max(_sendElapsed, _ackElapsed);
        var delivered = Delivered - _priorDelivered;
        var valid = interval >= Math.Max(minRttMs, 1u);
        sample = new RateSample(
            valid ? delivered / (double)interval : 0,
            valid,
            _sampleAppLimited,
            _priorDelivered,
            _ackedBytes);
        _priorDelivered = -1;
        _ackedBytes = 0;
        return true;
    }

    /// <summary>
    /// The sender ran out of data with room to send: samples until what is in flight now has been delivered
    /// measure the app's pace, not the path's.
    /// </summary>
    public void MarkAppLimited() => _appLimitedUntil = Math.Max(Delivered + InFlight, 1);

    private ref Transmission Slot(uint sn) => ref _ring[sn & (uint)(_ring.Length - 1)];

    /// <summary>Doubles the ring until <paramref name="sn"/> and every transmission in flight have a slot of their own.</summary>
    private void Grow(uint sn)
    {
        var old = _ring;
        var size = old.Length * 2;
        while (true)
        {
            var larger = new Transmission[size];
            var mask = (uint)(size - 1);
            var fits = true;
            foreach (ref readonly var t in old.AsSpan())
            {
                if (!t.InFlight)
                {
                    continue;
                }

                ref var target = ref larger[t.Sn & mask];
                if (target.InFlight)
                {
                    fits = false;
                    break;
                }

                target = t;
            }

            if (fits && !larger[sn & mask].InFlight)
            {
                _ring = larger;
                return;
            }

            size = (int)BitOperations.RoundUpToPowerOf2((uint)size + 1);
        }
    }

    private struct Transmission
    {
        public uint Sn;
        public int Bytes;
        public uint SentTime;
        public uint DeliveredTime;
        public uint FirstSentTime;
        public long Delivered;
        public bool AppLimited;
        public bool InFlight;
    }
}
