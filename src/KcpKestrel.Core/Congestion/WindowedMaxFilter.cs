namespace KcpKestrel.Core.Congestion;

/// <summary>
/// The largest sample seen over a sliding window of rounds, in constant time and space: the best, second
/// and third best candidates are kept so the maximum can expire without a history of every sample
/// (Kathleen Nichols' windowed min/max, the filter BBR keeps its bottleneck bandwidth in).
/// </summary>
internal sealed class WindowedMaxFilter(ulong window)
{
    private (ulong Round, double Value) _best, _second, _third;

    /// <summary>The maximum over the window, 0 before any sample.</summary>
    public double Value => _best.Value;

    /// <summary>Forgets every sample.</summary>
    public void Reset() => _best = _second = _third = default;

    /// <summary>Adds <paramref name="value"/> measured in <paramref name="round"/> (rounds never go backwards).</summary>
    public void Update(ulong round, double value)
    {
        var sample = (round, value);
        if (value >= _best.Value || round - _third.Round > window)
        {
            // A new maximum, or even the youngest candidate has aged out.
            _best = _second = _third = sample;
            return;
        }

        if (value >= _second.Value)
        {
            _second = _third = sample;
        }
        else if (value >= _third.Value)
        {
            _third = sample;
        }

        Expire(round, sample);
    }

    private void Expire(ulong round, (ulong Round, double Value) sample)
    {
        var age = round - _best.Round;
        if (age > window)
        {
            // The best is too old: the runners-up move up, the newest sample fills in behind them.
            _best = _second;
            _second = _third;
            _third = sample;
            if (round - _best.Round > window)
            {
                _best = _second;
                _second = _third;
                _third = sample;
            }
        }
        else if (_second.Round == _best.Round && age > window / 4)
        {
            // A quarter of the window passed with one candidate only: keep a younger one in reserve.
            _second = _third = sample;
        }
        else if (_third.Round == _second.Round && age > window / 2)
        {
            _third = sample;
        }
    }
}
