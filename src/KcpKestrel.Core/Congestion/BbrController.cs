namespace KcpKestrel.Core.Congestion;

/// <summary>
/// A rate-based congestion controller in the spirit of BBR (v1): it estimates the bottleneck's delivery rate
/// (the largest sample over ~10 round trips) and the path's minimum RTT (over 10 s), paces sends at a gain
/// times that rate, and keeps at most a gain times their product (the bandwidth-delay product) in flight.
/// Random loss does not lower the rate: only what is delivered counts. No clock of its own: every time is
/// the caller's, in ms, so a tick is the resolution (a path's RTT counts as at least 1 ms). Loop thread only.
/// </summary>
/// <remarks>
/// States: <see cref="BbrMode.Startup"/> (gain 2/ln 2 until the rate stops growing by a quarter for three
/// rounds), <see cref="BbrMode.Drain"/> (until a BDP is left in flight), <see cref="BbrMode.ProbeBandwidth"/>
/// (gains 1.25, 0.75 then six of 1, a minimum RTT each) and <see cref="BbrMode.ProbeRtt"/> (four segments in
/// flight for 200 ms and a round, when the minimum RTT has not been seen for 10 s).
/// </remarks>
internal sealed class BbrController
{
    /// <summary>Segments in flight before the first rate sample, and what the first round is paced for.</summary>
    public const int InitialWindowSegments = 32;

    /// <summary>The smallest window: enough to keep acks flowing (and what ProbeRtt holds).</summary>
    public const int MinWindowSegments = 4;

    private const double HighGain = 2.885; // 2/ln 2: doubles the delivery rate each round
    private const double DrainGain = 1 / HighGain;
    private const double CwndGain = 2;
    private const ulong BandwidthWindowRounds = 10;
    private const uint MinRttWindowMs = 10_000;
    private const uint ProbeRttMs = 200;
    private const double FullBandwidthGrowth = 1.25;
    private const int FullBandwidthRounds = 3;
    private const int CycleLength = 8;
    private const ulong AggregationWindowRounds = 5;

    private readonly int _datagramBytes;
    private readonly DeliveryRateSampler _sampler = new();
    private readonly WindowedMaxFilter _bandwidth = new(BandwidthWindowRounds);
    private readonly PacingBudget _pacer;
    private readonly WindowedMaxFilter _extraAcked = new(AggregationWindowRounds);

    private double _pacingGain = HighGain, _cwndGain = HighGain, _pacingRate;
    private long _cwnd, _priorCwnd, _admitted;
    private uint _minRtt = uint.MaxValue, _minRttStamp;
    private ulong _rounds;
    private long _nextRoundDelivered;
    private bool _roundStart;
    private double _fullBandwidth;
    private int _fullBandwidthCount, _cycleIndex;
    private uint _cycleStamp, _probeRttDone;
    private bool _filledPipe, _probeRttRoundDone, _deferred, _windowLimited;
    private uint _ackEpochStart;
    private long _ackEpochAcked;

    /// <param name="datagramBytes">The largest segment with its header (the MTU less the layers below KCP): the window's unit.</param>
    public BbrController(int datagramBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(datagramBytes, 1);
        _datagramBytes = datagramBytes;
        _pacer = new PacingBudget(datagramBytes);
        _cwnd = (long)InitialWindowSegments * datagramBytes;
        _pacingRate = HighGain * _cwnd; // the first round: the initial window per ms, until an RTT is known
    }

    public BbrMode Mode { get; private set; }

    /// <summary>The bottleneck rate estimate (bytes per ms; 0 before the first sample).</summary>
    public double Bandwidth => _bandwidth.Value;

    /// <summary>The minimum RTT seen in the last 10 s (ms), or null before any.</summary>
    public uint? MinRtt => _minRtt == uint.MaxValue ? null : _minRtt;

    /// <summary>Bytes per ms the pacer lets out now.</summary>
    public double PacingRate => _pacingRate;

    /// <summary>The most bytes that may be in flight now.</summary>
    public long Window => Mode == BbrMode.ProbeRtt ? Math.Min(_cwnd, MinWindow) : _cwnd;

    /// <summary>Bytes sent and not acknowledged.</summary>
    public long InFlight => _sampler.InFlight;

    /// <summary>Bytes acknowledged since the start.</summary>
    public long Delivered => _sampler.Delivered;

    /// <summary>Round trips counted so far (a round ends when a segment sent after its start is acked).</summary>
    public ulong Rounds => _rounds;

    /// <summary>The last flush held new segments back because the window was full: acks that free room should flush.</summary>
    public bool WindowLimited => _windowLimited;

    /// <summary>The last flush left something unsent because the pacer had no tokens: it wants a timer tick.</summary>
    public bool PacingDeferred => _deferred;

    private long MinWindow => (long)MinWindowSegments * _datagramBytes;

    // The RTT a BDP is computed over: the clock reads whole ms, so a reading of r is up to r + 1.
    private uint RttForBdp => (_minRtt == uint.MaxValue ? 1 : _minRtt) + 1;

    // ---- the send side, called by the flush ----

    /// <summary>Starts a flush at <paramref name="now"/>: the pacer earns what the time since the last one is worth.</summary>
    public void BeginFlush(uint now)
    {
        _pacer.Refill(now, _pacingRate);
        _admitted = 0;
        _deferred = false;
        _windowLimited = false;
    }

    /// <summary>
    /// Whether a new segment of <paramref name="bytes"/> may join those in flight: the window has room (one
    /// segment always may, so nothing stalls) and the pacer has tokens for it and those admitted before it.
    /// </summary>
    public bool AdmitNew(int bytes)
    {
        var inFlight = _sampler.InFlight + _admitted;
        if (inFlight > 0 && inFlight + bytes > Window)
        {
            _windowLimited = true;
            return false;
        }

        if (_pacer.Tokens - _admitted <= 0)
        {
            _deferred = true;
            return false;
        }

        _admitted += bytes;
        return true;
    }

    /// <summary>Whether the pacer lets a segment out now (new or retransmitted).</summary>
    public bool HasTokens => _pacer.HasTokens;

    /// <summary>The flush held a segment back for want of tokens: it needs the tick <see cref="NextSendTime"/> gives.</summary>
    public void Defer() => _deferred = true;

    /// <summary>Segment <paramref name="sn"/> of <paramref name="bytes"/> (header included) left at <paramref name="now"/>.</summary>
    public void OnSent(uint sn, int bytes, uint now)
    {
        var inFlight = _sampler.InFlight;
        _sampler.OnSent(sn, bytes, now);
        if (_sampler.InFlight != inFlight)
        {
            _admitted = Math.Max(_admitted - bytes, 0);
        }

        _pacer.Take(bytes);
    }

    /// <summary>
    /// Ends a flush. <paramref name="outOfData"/>: nothing was left queued, so unless the pacer or window held
    /// something back, the app set the pace and the rate samples that follow do not measure the path.
    /// </summary>
    public void EndFlush(bool outOfData)
    {
        if (outOfData && !_deferred && _sampler.InFlight < Window)
        {
            _sampler.MarkAppLimited();
        }
    }

    /// <summary>When the next flush is worth running: now if the pacer holds tokens, else when it will.</summary>
    public uint NextSendTime(uint now) => _pacer.ReadyAt(now, _pacingRate);

    // ---- the ack side, called by input ----

    /// <summary>Segment <paramref name="sn"/> is newly acknowledged at <paramref name="now"/>.</summary>
    public void OnAcked(uint sn, uint now) => _sampler.OnAcked(sn, now);

    /// <summary>
    /// Ends the acks of one input: updates the model from its rate sample and <paramref name="rttMs"/> (the
    /// RTT the newest ack echoes, or negative when there is none), then the pacing rate and window.
    /// </summary>
    public void OnAckEventEnd(uint now, int rttMs)
    {
        UpdateMinRtt(now, rttMs);
        if (!_sampler.TryTakeSample(_minRtt == uint.MaxValue ? 0 : _minRtt, out var sample))
        {
            return;
        }

        UpdateRound(sample);
        if (sample.IsValid && (!sample.IsAppLimited || sample.BytesPerMs >= _bandwidth.Value))
        {
            _bandwidth.Update(_rounds, sample.BytesPerMs);
        }

        UpdateAckAggregation(now, sample.AckedBytes);
        CheckFullPipe(sample);
        CheckDrain();
        UpdateCycle(now);
        UpdateProbeRtt(now);
        SetPacingRate();
        SetWindow(sample.AckedBytes);
    }

    private void UpdateMinRtt(uint now, int rttMs)
    {
        var expired = _minRtt != uint.MaxValue && (int)(now - _minRttStamp) > (int)MinRttWindowMs;
        if (rttMs >= 0 && ((uint)rttMs <= _minRtt || expired))
        {
            _minRtt = (uint)rttMs;
            _minRttStamp = now;
        }

        if (expired && Mode != BbrMode.ProbeRtt)
        {
            Mode = BbrMode.ProbeRtt;
            _pacingGain = 1;
            _cwndGain = 1;
            _priorCwnd = Math.Max(_priorCwnd, _cwnd);
            _probeRttDone = 0;
        }
    }

    private void UpdateRound(in RateSample sample)
    {
        _roundStart = false;
        if (sample.PriorDelivered >= _nextRoundDelivered)
        {
            _nextRoundDelivered = _sampler.Delivered;
            _rounds++;
            _roundStart = true;
        }
    }

    /// <summary>
    /// How far acks run ahead of the rate estimate (BBR's extra_acked): a receiver that acks in batches (a loop
    /// turn, a delayed flush) delivers in bursts, and a window of exactly the BDP would stall the sender between
    /// them. The largest excess over the last rounds is added to the window.
    /// </summary>
    private void UpdateAckAggregation(uint now, long acked)
    {
        var bandwidth = _bandwidth.Value;
        if (acked <= 0 || bandwidth <= 0)
        {
            return;
        }

        var elapsed = (int)(now - _ackEpochStart);
        var expected = bandwidth * elapsed;
        if (_ackEpochAcked <= expected || elapsed < 0)
        {
            // Acks have not run ahead of the rate: a new epoch starts here.
            _ackEpochAcked = 0;
            _ackEpochStart = now;
            expected = 0;
        }

        _ackEpochAcked += acked;
        // At most the window, and at most 100 ms of the rate: a stall is not a burst to provision for.
        var extra = Math.Min(Math.Min(_ackEpochAcked - expected, _cwnd), (long)(bandwidth * 100));
        _extraAcked.Update(_rounds, Math.Max(extra, 0));
    }

    private void CheckFullPipe(in RateSample sample)
    {
        if (_filledPipe || !_roundStart || sample.IsAppLimited)
        {
            return;
        }

        if (_bandwidth.Value >= _fullBandwidth * FullBandwidthGrowth)
        {
            _fullBandwidth = _bandwidth.Value;
            _fullBandwidthCount = 0;
            return;
        }

        _filledPipe = ++_fullBandwidthCount >= FullBandwidthRounds;
    }

    private void CheckDrain()
    {
        if (Mode == BbrMode.Startup && _filledPipe)
        {
            Mode = BbrMode.Drain;
            _pacingGain = DrainGain;
            _cwndGain = HighGain;
        }

        if (Mode == BbrMode.Drain && _sampler.InFlight <= Bdp(1))
        {
            EnterProbeBandwidth(_sampler.DeliveredTime);
        }
    }

    private void EnterProbeBandwidth(uint now)
    {
        Mode = BbrMode.ProbeBandwidth;
        _cwndGain = CwndGain;

        // Start anywhere but the 0.75 phase (as BBR does at random), here spread by the rounds counted so far.
        _cycleIndex = (int)(_rounds % (CycleLength - 1));
        if (_cycleIndex == 1)
        {
            _cycleIndex = 2;
        }

        _cycleStamp = now;
        _pacingGain = CycleGain(_cycleIndex);
    }

    private void UpdateCycle(uint now)
    {
        if (Mode != BbrMode.ProbeBandwidth)
        {
            return;
        }

        var fullLength = (int)(now - _cycleStamp) > (int)(RttForBdp - 1);
        var inFlight = _sampler.InFlight;
        var next = _pacingGain switch
        {
            > 1 => fullLength && inFlight >= Bdp(_pacingGain),
            < 1 => fullLength || inFlight <= Bdp(1),
            _ => fullLength,
        };

        if (next)
        {
            _cycleIndex = (_cycleIndex + 1) % CycleLength;
            _cycleStamp = now;
            _pacingGain = CycleGain(_cycleIndex);
        }
    }

    private void UpdateProbeRtt(uint now)
    {
        if (Mode != BbrMode.ProbeRtt)
        {
            return;
        }

        if (_probeRttDone == 0 && _sampler.InFlight <= MinWindow)
        {
            // Drained to the minimum: hold it for 200 ms and at least one round.
            _probeRttDone = now + ProbeRttMs;
            if (_probeRttDone == 0)
            {
                _probeRttDone = 1;
            }

            _probeRttRoundDone = false;
            _nextRoundDelivered = _sampler.Delivered;
        }
        else if (_probeRttDone != 0)
        {
            _probeRttRoundDone |= _roundStart;
            if (_probeRttRoundDone && (int)(now - _probeRttDone) >= 0)
            {
                _minRttStamp = now;
                _cwnd = Math.Max(_cwnd, _priorCwnd);
                _priorCwnd = 0;
                if (_filledPipe)
                {
                    EnterProbeBandwidth(now);
                }
                else
                {
                    Mode = BbrMode.Startup;
                    _pacingGain = HighGain;
                    _cwndGain = HighGain;
                }
            }
        }
    }

    private void SetPacingRate()
    {
        var bandwidth = _bandwidth.Value;
        if (bandwidth <= 0)
        {
            return;
        }

        var rate = _pacingGain * bandwidth;

        // Until the pipe is known full, the rate only grows: an early small sample must not throttle startup.
        if (_filledPipe || rate > _pacingRate)
        {
            _pacingRate = rate;
        }
    }

    private void SetWindow(long acked)
    {
        if (_bandwidth.Value <= 0)
        {
            return;
        }

        // Two pacing bursts beyond the gain's BDP: a tick's burst is in flight before its acks can return.
        var target = Bdp(_cwndGain) + (long)(2 * _pacingRate);
        if (_filledPipe)
        {
            target += (long)_extraAcked.Value;
        }

        if (_filledPipe)
        {
            _cwnd = Math.Min(_cwnd + acked, target);
        }
        else if (_cwnd < target || _sampler.Delivered < (long)InitialWindowSegments * _datagramBytes)
        {
            _cwnd += acked;
        }

        _cwnd = Math.Max(_cwnd, MinWindow);
    }

    private long Bdp(double gain) => (long)(gain * _bandwidth.Value * RttForBdp);

    private static double CycleGain(int index) => index switch
    {
        0 => 1.25,
        1 => 0.75,
        _ => 1,
    };
}
