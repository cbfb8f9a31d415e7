using KcpKestrel.Shared;

namespace KcpKestrel.Multicast.Publishing;

/// <summary>
/// The publisher's congestion response (AIMD), pure: every call takes <c>now</c> in microseconds.
/// A publisher faster than a subscriber overflows that subscriber's socket buffer, which drops whole
/// bursts: the NAKs name long runs of consecutive packets, and each burst costs a burst of repairs.
/// Random loss (a lossy link, the diagnostic drop filter) names mostly single packets. So a new loss run
/// of at least <see cref="BurstRun"/> packets cuts the allowed rate to <see cref="Decrease"/> × the
/// measured send rate. Each interval without a cut in which the pacer held the publisher back raises it
/// by a twentieth of the cut rate up to the rate that overflowed, then by <see cref="SlowIncrease"/>.
/// A loss is counted once (the highest sequence seen bounds it), and only losses of packets sent after
/// the last cut cut again (packets already in flight when the rate fell tell nothing about the new
/// rate), so the rate falls once per NAK lag, fast from far above. Until the first cut the pacer only
/// counts sends: an unpaced publisher pays no token bucket. Back at the user's ceiling
/// (<see cref="MulticastOptions.PacketsPerSecond"/>) it steps aside. New packets and resends take tokens
/// alike (resends go first, into debt: they repair), so answering NAKs lowers the new-data rate.
/// </summary>
internal sealed class SendPacer
{
    /// <summary>The measuring and raising period: a few NAK lags (reorder wait + NAK retry) on a LAN.</summary>
    public const long Interval = 10_000;

    /// <summary>Consecutive NAKed packets that show a full queue rather than random loss (5% loss: 1 run in 8000).</summary>
    public const int BurstRun = 4;

    public const double Decrease = 0.7;

    /// <summary>The raise per interval past the last rate that overflowed: +65% a second.</summary>
    public const double SlowIncrease = 1.005;

    /// <summary>The floor, in packets per second, so the publisher still probes after a deep cut.</summary>
    public const double MinRate = 100;

    private readonly double _ceiling;
    private readonly TokenBucket _bucket = new(MinRate, 1, TimeSpan.TicksPerSecond / TimeSpan.TicksPerMicrosecond);
    private long _intervalStart;
    private long _intervalSends;
    private bool _intervalLimited;
    private double _measured;
    private long _lastCutAt = long.MinValue / 2; // half: now - it must not overflow
    private double _step;
    private double _lastBad;
    private ulong _lossSeenUpTo;
    private ulong _cutAtSequence;

    /// <param name="ceiling">The user's packets per second (0: none); the pacer never allows more.</param>
    public SendPacer(double ceiling) => _ceiling = ceiling;

    /// <summary>Whether the pacer limits the rate (a congestion was seen and the rate is below the ceiling).</summary>
    public bool Active { get; private set; }

    /// <summary>The allowed rate in packets per second (0 while inactive).</summary>
    public double Rate => Active ? _bucket.PerSecond : 0;

    /// <summary>Rate cuts so far.</summary>
    public long Cuts { get; private set; }

    /// <summary>Whether a packet may go now (always while inactive). Call <see cref="Refill"/> first.</summary>
    public bool HasToken => !Active || _bucket.Tokens >= 1;

    /// <summary>Microseconds until a token (0: one is there).</summary>
    public long MicrosUntilToken => HasToken ? 0 : Math.Max(1, (long)Math.Ceiling(_bucket.SecondsUntil(1) * 1_000_000));

    public void Refill(long now)
    {
        if (Active)
        {
            _bucket.Refill(now);
            Roll(now);
        }
    }

    /// <summary>A refused send: the pacer held the publisher back in this interval (so raising is earned).</summary>
    public void Waited() => _intervalLimited = true;

    /// <summary>A packet went out (new or resent).</summary>
    public void OnSend(long now)
    {
        _intervalSends++;
        if (Active)
        {
            _bucket.Take(1);
        }
        else
        {
            Roll(now);
        }
    }

    /// <summary>
    /// A NAK for <paramref name="count"/> packets from <paramref name="first"/>; <paramref name="next"/>
    /// is the next sequence to send (later ones were never sent).
    /// </summary>
    public void OnNak(ulong first, uint count, ulong next, long now)
    {
        Roll(now);
        var end = Math.Min(first + count, next);
        var from = Math.Max(first, _lossSeenUpTo);
        if (end <= from)
        {
            // Retries of NAKs already counted.
            return;
        }

        _lossSeenUpTo = end;
        var burst = end - first >= BurstRun;
        if (burst && end > _cutAtSequence)
        {
            Cut(next, now);
        }
    }

    private void Cut(ulong next, long now)
    {
        var elapsed = now - _intervalStart;
        var current = elapsed > 0 ? _intervalSends * 1e6 / elapsed : 0;
        // The last whole interval, or the current one when it is longer or there is none yet (a
        // congestion within the first interval).
        var measured = _measured > 0 && elapsed < Interval / 10 ? _measured : Math.Max(_measured, current);
        if (measured <= 0)
        {
            measured = _ceiling > 0 ? _ceiling : MinRate / Decrease;
        }

        var from = Active ? Math.Min(_bucket.PerSecond, measured) : measured;
        var rate = Math.Max(MinRate, from * Decrease);
        if (_ceiling > 0)
        {
            rate = Math.Min(rate, _ceiling);
        }

        _bucket.PerSecond = rate;
        _bucket.Capacity = Math.Max(1, rate / 1000);
        if (!Active)
        {
            _bucket.Start(now);
            _bucket.Fill();
            Active = true;
        }
        else
        {
            _bucket.Refill(now);
        }

        _lastBad = from;
        _step = Math.Max(MinRate / 10, rate / 20);
        _lastCutAt = now;
        _cutAtSequence = next;
        Cuts++;
    }

    private void Roll(long now)
    {
        var elapsed = now - _intervalStart;
        if (elapsed < Interval)
        {
            return;
        }

        // A decaying peak: an idle stretch (before the first send, between bursts) is no sample of
        // what the publisher sends when it sends; a cut from it would start from almost nothing.
        _measured = Math.Max(_intervalSends * 1e6 / elapsed, _measured / 2);
        if (Active && _intervalLimited && now - _lastCutAt >= Interval)
        {
            // Quickly back to the rate that overflowed, then slowly past it: the subscriber's capacity
            // rarely moves, and probing above it costs a burst of repairs each time.
            var rate = _bucket.PerSecond < _lastBad ? _bucket.PerSecond + _step : _bucket.PerSecond * SlowIncrease;
            if (_ceiling > 0 && rate >= _ceiling)
            {
                Active = false;
            }
            else
            {
                _bucket.PerSecond = rate;
                _bucket.Capacity = Math.Max(1, rate / 1000);
            }
        }

        _intervalStart = now;
        _intervalSends = 0;
        _intervalLimited = false;
    }
}
