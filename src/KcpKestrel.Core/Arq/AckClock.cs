namespace KcpKestrel.Core.Arq;

/// <summary>
/// Holds back a retransmission timeout while acknowledgements of new data keep arriving, as TCP restarts its one
/// timer on each (RFC 6298 5.3). KCP times each segment from its own send, so when a whole window leaves in one
/// flush and queues behind a slower receiver, the segments at the back of the burst expire while the acks of the
/// front are still coming in: kcp-go then resends them all (spurious, the issue #17 counts a third of all segments
/// at 0% loss), which costs both ends the CPU they were short of and queues the path further. A segment that is
/// really lost behind acked ones is found sooner by fast retransmit (acks of later segments), so deferring its
/// timeout costs nothing there; a timeout still fires one rto after the acks stop. Only with more than a few
/// segments in flight: a short message (a request of a few segments) keeps each segment's own timer, so a lost
/// last segment of it is not resent an rtt later than kcp-go would. Pure; times in ms.
/// </summary>
internal struct AckClock
{
    /// <summary>Segments in flight from which timeouts are held (a window's burst, not a short message).</summary>
    public const uint MinInFlight = 16;

    private uint _lastProgress;
    private bool _ticking;

    /// <summary>An ack removed data from the send buffer at <paramref name="current"/>.</summary>
    public void OnProgress(uint current)
    {
        _lastProgress = current;
        _ticking = true;
    }

    /// <summary>
    /// For an expired segment: when acks arrived within the last <paramref name="rto"/>, moves its
    /// <paramref name="resendTs"/> to one rto after the latest and returns true (not lost yet).
    /// </summary>
    public readonly bool TryRearm(uint current, uint rto, ref uint resendTs)
    {
        var until = _lastProgress + rto;
        if (!_ticking || (int)(current - until) >= 0)
        {
            return false;
        }

        resendTs = until;
        return true;
    }
}
