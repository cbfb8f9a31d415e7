namespace KcpKestrel.Transport.Kcp.Diagnostics;

/// <summary>
/// Why datagrams are dropped, each with the <c>reason</c> tag value that the <c>kcp.datagrams.dropped</c> metric and
/// <c>kcpkestrel serve</c>'s stop line both use: the one list of drop reasons.
/// </summary>
/// <param name="Name">The tag value.</param>
/// <param name="Read">Reads the count from a loop's (or a listener's summed) counters.</param>
/// <param name="RefusesPeer">A new peer refused at admission (also reported as <c>kcp.sessions.rejected</c>).</param>
internal sealed record KcpDropReason(string Name, Func<KcpTransportCounters, long> Read, bool RefusesPeer = false)
{
    /// <summary>Every reason, in the order reports list them.</summary>
    public static IReadOnlyList<KcpDropReason> All { get; } =
    [
        new("cipher", static c => c.DroppedCipher),
        new("malformed", static c => c.DroppedMalformed),
        new("fec", static c => c.DroppedFec),
        new("no_session", static c => c.DroppedNoSession),
        new("unvalidated", static c => c.DroppedUnvalidated),
        new("wrong_conv", static c => c.DroppedWrongConv),
        new("tombstone", static c => c.DroppedTombstone),
        new("max_sessions", static c => c.DroppedMaxSessions, RefusesPeer: true),
        new("accept_queue_full", static c => c.DroppedAcceptQueueFull, RefusesPeer: true),
        new("rate_limited", static c => c.DroppedRateLimited, RefusesPeer: true),
        new("unbound", static c => c.DroppedUnbound, RefusesPeer: true),
        new("replay", static c => c.DroppedReplay),
        new("handover", static c => c.DroppedHandover),
        new("session_budget", static c => c.DroppedSessionBudget),
        new("listener_budget", static c => c.DroppedListenerBudget),
        new("oversize", static c => c.DroppedOversize),
        new("send_dropped", static c => c.DatagramsDroppedOnSend),
    ];
}
