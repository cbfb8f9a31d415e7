using KcpKestrel.Shared;

namespace KcpKestrel.Transport.UserTcp.Tcp;

/// <summary>
/// What a connection needs from its stack (implemented by <c>TcpStack</c>, by a fake in the connection's own
/// tests): the segment output, the loop's one timer wheel, the shared counters and the stack-wide budgets.
/// Loop thread only.
/// </summary>
internal interface ITcpConnectionOwner
{
    /// <summary>Where segments go.</summary>
    ITcpSegmentOutput Output { get; }

    /// <summary>The loop's timer wheel (ms slots): every connection timer (RTO, delayed ACK, persist, keep-alive, TIME_WAIT) is one entry on it.</summary>
    TimerWheel Timers { get; }

    /// <summary>The stack's counters.</summary>
    TcpCounters Counters { get; }

    /// <summary>A passive open reached ESTABLISHED: the stack hands it to the listener; false when refused (the connection then resets itself).</summary>
    bool OnPassiveEstablished(TcpConnection connection);

    /// <summary>The connection reached CLOSED (after TIME_WAIT, a reset, an abort or a timeout): the stack forgets its flow.</summary>
    void OnReleased(TcpConnection connection);

    /// <summary>Takes one challenge ACK from the stack-wide budget (RFC 5961 §7); false when it is spent (counted).</summary>
    bool TryTakeChallengeAck(uint now);
}
