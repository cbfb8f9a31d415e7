namespace KcpKestrel.Transport.UserTcp.Tcp;

/// <summary>
/// The retransmission timeout of RFC 6298: SRTT and RTTVAR from RTT samples (alpha 1/8, beta 1/4, K 4), RTO
/// clamped to the options' min and max, doubled on each expiry (§5.5) until a new sample arrives.
/// </summary>
internal struct RttEstimator
{
    private const int InitialRtoMs = 1000; // RFC 6298 §2.1

    private int _srtt;
    private int _rttvar;
    private int _rto;

    public readonly int SmoothedRttMs => _srtt;

    public readonly int RttVarianceMs => _rttvar;

    public readonly int RtoMs => _rto == 0 ? InitialRtoMs : _rto;

    public readonly bool HasSample => _srtt > 0;

    /// <summary>Takes one RTT sample (ms); a sample of 0 counts as 1 so SRTT stays nonzero.</summary>
    public void Sample(int rtt, int minRto, int maxRto)
    {
        rtt = Math.Max(1, rtt);
        if (_srtt == 0)
        {
            _srtt = rtt;
            _rttvar = rtt / 2;
        }
        else
        {
            _rttvar = ((3 * _rttvar) + Math.Abs(_srtt - rtt)) / 4;
            _srtt = ((7 * _srtt) + rtt) / 8;
            _srtt = Math.Max(1, _srtt);
        }

        _rto = Math.Clamp(_srtt + Math.Max(1, 4 * _rttvar), minRto, maxRto);
    }

    /// <summary>Doubles the RTO after an expiry (§5.5).</summary>
    public void Backoff(int maxRto) => _rto = (int)Math.Min((long)RtoMs * 2, maxRto);
}
