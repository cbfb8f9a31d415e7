namespace KcpKestrel.Core.Congestion;

/// <summary>The phases of <see cref="BbrController"/> (BBRv1's state machine).</summary>
internal enum BbrMode
{
    /// <summary>Doubling the rate every round until the delivery rate stops growing.</summary>
    Startup,

    /// <summary>Emptying the queue Startup built, down to one bandwidth-delay product in flight.</summary>
    Drain,

    /// <summary>Steady state: the rate cycles a little above and below the estimate to find more room.</summary>
    ProbeBandwidth,

    /// <summary>Briefly almost nothing in flight, so the minimum RTT can be measured again without a queue.</summary>
    ProbeRtt,
}
