namespace KcpKestrel.Transport.Kcp.Diagnostics;

/// <summary>
/// Counters of one I/O loop. Written by that loop's thread only, with plain adds (no interlocked
/// cost on the hot path); readers on other threads sum the loops and tolerate a value a moment old.
/// </summary>
internal sealed class KcpTransportCounters
{
    public long DatagramsReceived;
    public long DatagramsSent;
    public long BytesReceived;
    public long BytesSent;
    public long ReceiveCalls;
    public long SendCalls;
    public long DatagramsDroppedOnSend;
    public long SendWaits;

    // Datagrams the kernel dropped before the loop read them (the socket's receive buffer was full),
    // from SO_RXQ_OVFL on the native paths: seen with the next datagram read after the drop.
    public long KernelDrops;

    // Not counts but the effective SO_RCVBUF/SO_SNDBUF of the smallest socket (0: none measured),
    // set when a socket is opened; Add keeps the smallest.
    public long SocketReceiveBuffer;
    public long SocketSendBuffer;

    // io_uring: times a multishot receive ran out of provided buffers (ENOBUFS) and was armed again.
    public long ReceiveBuffersExhausted;

    // UDP GSO/GRO: messages sent with UDP_SEGMENT and the datagrams they carried; sockets that turned
    // GSO off after the kernel refused it; received buffers the kernel had coalesced, and their datagrams.
    public long GsoMessagesSent;
    public long GsoSegmentsSent;
    public long GsoDisabled;
    public long GroReceives;
    public long GroSegmentsReceived;

    public long DroppedOversize;
    public long DroppedCipher;
    public long DroppedMalformed;
    public long DroppedFec;
    public long DroppedNoSession;
    public long DroppedWrongConv;
    public long DroppedTombstone;
    public long DroppedMaxSessions;
    public long DroppedAcceptQueueFull;
    public long DroppedRateLimited;
    public long DroppedUnbound;
    public long DroppedReplay;

    // Receive budgets: PUSH segments (and FEC shards) not buffered, and sessions closed to free the listener's.
    public long DroppedSessionBudget;
    public long DroppedListenerBudget;
    public long SessionsClosedForMemory;

    // Not counts but a listener's receive budget as its totals are read (set there, summed over listeners).
    public long ReceiveBytesHeld;
    public long ReceiveBytesPeak;
    public long ReceiveBudget;

    public long SessionsAccepted;
    public long SessionsClosed;
    public long SessionsReplaced;

    // Address validation: sessions whose peer proved its address (acked a segment echoing our ts);
    // datagrams held back because an unproven peer had used its amplification budget; unproven
    // sessions closed silently at UnprovenIdleTimeout.
    public long SessionsValidated;
    public long AmplificationLimited;
    public long UnprovenTimeouts;

    // Address tokens (our AEAD modes): datagrams from a source with no session and no valid token (dropped,
    // some answered with a RETRY), and the RETRYs sent.
    public long DroppedUnvalidated;
    public long RetriesSent;

    // Migration (our AEAD modes): sessions moved to a new address whose path check succeeded; path checks that
    // failed (no answer in time) and left the session where it was.
    public long SessionsMigrated;
    public long PathChecksFailed;

    // Datagrams of a migrated peer that another loop could not hand over (the owner's inbox was full).
    public long DroppedHandover;

    public long FecRecovered;
    public long KcpInputErrors;

    // Added at session end from the engine's own statistics (kcp-go InSegs/OutSegs, FECParityShards,
    // FECShortShards, FECErrs): one add per session, not per packet.
    public long SegmentsReceived;
    public long SegmentsSent;
    public long FecParityShardsReceived;
    public long FecShortGroups;
    public long FecFailedReconstructs;

    /// <summary>Adds every field of <paramref name="other"/> into this one.</summary>
    public void Add(KcpTransportCounters other)
    {
        DatagramsReceived += Volatile.Read(ref other.DatagramsReceived);
        DatagramsSent += Volatile.Read(ref other.DatagramsSent);
        BytesReceived += Volatile.Read(ref other.BytesReceived);
        BytesSent += Volatile.Read(ref other.BytesSent);
        ReceiveCalls += Volatile.Read(ref other.ReceiveCalls);
        SendCalls += Volatile.Read(ref other.SendCalls);
        DatagramsDroppedOnSend += Volatile.Read(ref other.DatagramsDroppedOnSend);
        SendWaits += Volatile.Read(ref other.SendWaits);
        KernelDrops += Volatile.Read(ref other.KernelDrops);
        SocketReceiveBuffer = Smallest(SocketReceiveBuffer, Volatile.Read(ref other.SocketReceiveBuffer));
        SocketSendBuffer = Smallest(SocketSendBuffer, Volatile.Read(ref other.SocketSendBuffer));
        ReceiveBuffersExhausted += Volatile.Read(ref other.ReceiveBuffersExhausted);
        GsoMessagesSent += Volatile.Read(ref other.GsoMessagesSent);
        GsoSegmentsSent += Volatile.Read(ref other.GsoSegmentsSent);
        GsoDisabled += Volatile.Read(ref other.GsoDisabled);
        GroReceives += Volatile.Read(ref other.GroReceives);
        GroSegmentsReceived += Volatile.Read(ref other.GroSegmentsReceived);
        DroppedOversize += Volatile.Read(ref other.DroppedOversize);
        DroppedCipher += Volatile.Read(ref other.DroppedCipher);
        DroppedMalformed += Volatile.Read(ref other.DroppedMalformed);
        DroppedFec += Volatile.Read(ref other.DroppedFec);
        DroppedNoSession += Volatile.Read(ref other.DroppedNoSession);
        DroppedWrongConv += Volatile.Read(ref other.DroppedWrongConv);
        DroppedTombstone += Volatile.Read(ref other.DroppedTombstone);
        DroppedMaxSessions += Volatile.Read(ref other.DroppedMaxSessions);
        DroppedAcceptQueueFull += Volatile.Read(ref other.DroppedAcceptQueueFull);
        DroppedRateLimited += Volatile.Read(ref other.DroppedRateLimited);
        DroppedUnbound += Volatile.Read(ref other.DroppedUnbound);
        DroppedReplay += Volatile.Read(ref other.DroppedReplay);
        DroppedSessionBudget += Volatile.Read(ref other.DroppedSessionBudget);
        DroppedListenerBudget += Volatile.Read(ref other.DroppedListenerBudget);
        SessionsClosedForMemory += Volatile.Read(ref other.SessionsClosedForMemory);
        ReceiveBytesHeld += other.ReceiveBytesHeld;
        ReceiveBytesPeak += other.ReceiveBytesPeak;
        ReceiveBudget += other.ReceiveBudget;
        SessionsValidated += Volatile.Read(ref other.SessionsValidated);
        AmplificationLimited += Volatile.Read(ref other.AmplificationLimited);
        UnprovenTimeouts += Volatile.Read(ref other.UnprovenTimeouts);
        DroppedUnvalidated += Volatile.Read(ref other.DroppedUnvalidated);
        RetriesSent += Volatile.Read(ref other.RetriesSent);
        SessionsMigrated += Volatile.Read(ref other.SessionsMigrated);
        PathChecksFailed += Volatile.Read(ref other.PathChecksFailed);
        DroppedHandover += Volatile.Read(ref other.DroppedHandover);
        SessionsAccepted += Volatile.Read(ref other.SessionsAccepted);
        SessionsClosed += Volatile.Read(ref other.SessionsClosed);
        SessionsReplaced += Volatile.Read(ref other.SessionsReplaced);
        FecRecovered += Volatile.Read(ref other.FecRecovered);
        KcpInputErrors += Volatile.Read(ref other.KcpInputErrors);
        SegmentsReceived += Volatile.Read(ref other.SegmentsReceived);
        SegmentsSent += Volatile.Read(ref other.SegmentsSent);
        FecParityShardsReceived += Volatile.Read(ref other.FecParityShardsReceived);
        FecShortGroups += Volatile.Read(ref other.FecShortGroups);
        FecFailedReconstructs += Volatile.Read(ref other.FecFailedReconstructs);
    }

    /// <summary>The smaller of two sizes, 0 meaning "none measured".</summary>
    private static long Smallest(long a, long b) => a == 0 ? b : b == 0 ? a : Math.Min(a, b);

    /// <summary>Records a socket's effective buffer sizes (see <see cref="SocketReceiveBuffer"/>).</summary>
    public void RecordSocketBuffers(int receive, int send)
    {
        SocketReceiveBuffer = Smallest(SocketReceiveBuffer, receive);
        SocketSendBuffer = Smallest(SocketSendBuffer, send);
    }
}
