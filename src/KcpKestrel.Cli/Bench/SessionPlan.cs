namespace KcpKestrel.Cli.Bench;

/// <summary>What each session of a sessions run does.</summary>
/// <param name="Size">Bytes per message.</param>
/// <param name="Interval">Time between a session's messages (1 / rate).</param>
/// <param name="Duration">How long each session runs, from its first dial; redials do not extend it.</param>
/// <param name="RoundTripTimeout">A message whose echo is not back within this ends its session.</param>
/// <param name="Redial">Whether a session that ends early is dialed again and carries on.</param>
internal sealed record SessionPlan(int Size, TimeSpan Interval, TimeSpan Duration, TimeSpan RoundTripTimeout, bool Redial);
