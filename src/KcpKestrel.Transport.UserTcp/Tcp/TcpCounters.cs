namespace KcpKestrel.Transport.UserTcp.Tcp;

/// <summary>
/// One loop's TCP counters, written by its thread only and read (torn reads tolerated) by metrics. Every dropped
/// segment is counted under exactly one reason.
/// </summary>
internal sealed class TcpCounters
{
    // Connections
    public long ActiveOpens;
    public long PassiveOpens;
    public long Established;
    public long ClosedNormally;
    public long ResetsReceived;
    public long ResetsSent;
    public long Aborted;
    public long TimedOut;
    public long KeepAliveTimedOut;
    public long AcceptQueueFull;

    // Data
    public long SegmentsReceived;
    public long SegmentsSent;
    public long BytesReceived;
    public long BytesSent;
    public long Retransmits;
    public long FastRetransmits;
    public long RtoExpirations;
    public long SackRecoveries;
    public long ZeroWindowProbes;
    public long KeepAlivesSent;
    public long DelayedAcks;
    public long DuplicateSegments;
    public long OutOfOrderSegments;

    // Drops and defences (RFC 5961, RFC 4987)
    public long DroppedOutOfWindow;
    public long DroppedBadAck;
    public long DroppedNoConnection;
    public long DroppedInvalidState;
    public long DroppedBadCookie;
    public long DroppedListenQueueFull;
    public long DroppedMaxConnections;
    public long RstIgnored;
    public long SynIgnored;
    public long ChallengeAcksSent;
    public long ChallengeAcksLimited;
    public long SynCookiesSent;
    public long SynCookiesAccepted;
    public long TimeWaitReused;

    // Appended by the connection (ut-conn)
    public long DroppedPaws;
    public long DroppedReassemblyFull;
    public long PersistTimeouts;

    // Stack-level drops and defences (TcpStack)
    public long DroppedInvalidFlags;
    public long ResetsRateLimited;
    public long TimeWaitEvicted;
    public long OutOfWindowAcksLimited;
}
