namespace KcpKestrel.Transport.Kcp.Sessions;

/// <summary>When a session next needs its timer: pure, so the rules are testable without a loop.</summary>
internal static class SessionSchedule
{
    /// <summary>The longest an idle session sleeps before it looks at its idle deadline again (ms).</summary>
    public const uint MaxIdleWakeMs = 1000;

    /// <summary>
    /// The next tick. An idle session (nothing queued or in flight: <paramref name="kcpDue"/> null) needs no KCP
    /// tick: it wakes on the next datagram or app write, or when the idle deadline comes, so thousands of quiet
    /// sessions do not cost a wake-up every interval. A session held by the send-rate cap wakes when the cap has
    /// refilled (or earlier, for KCP). An unproven peer that stopped sending is not worth KCP's retransmission
    /// schedule past its deadline.
    /// </summary>
    /// <param name="now">The loop's time (ms).</param>
    /// <param name="rateRefillMs">Set when the send-rate cap stopped the last pump: ms until it has refilled.</param>
    /// <param name="kcpDue">KCP's next due time on the loop's clock, when KCP holds anything to send.</param>
    /// <param name="idleLeftMs">Ms left before the idle timeout that applies now.</param>
    /// <param name="unprovenDeadline">When an unproven peer that went silent is dropped, if unproven.</param>
    public static uint NextDue(uint now, uint? rateRefillMs, uint? kcpDue, uint idleLeftMs, uint? unprovenDeadline)
    {
        if (rateRefillMs is { } refill)
        {
            var due = now + refill;
            return kcpDue is { } check && (int)(check - due) < 0 ? check : due;
        }

        if (kcpDue is not { } kcp)
        {
            return now + Math.Clamp(idleLeftMs, 1u, MaxIdleWakeMs);
        }

        return unprovenDeadline is { } deadline && (int)(deadline - kcp) < 0 ? deadline : kcp;
    }
}
