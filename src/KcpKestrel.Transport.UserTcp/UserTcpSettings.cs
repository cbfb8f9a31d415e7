namespace KcpKestrel.Transport.UserTcp;

/// <summary>
/// The one list of every <see cref="UserTcpOptions"/> setting's range (the defaults are the property initializers):
/// validation reads it, so a new setting is a property and an entry here.
/// </summary>
internal static class UserTcpSettings
{
    private const long Hour = 3_600_000;

    /// <summary>Every setting, in <see cref="UserTcpOptions"/>' order.</summary>
    public static IReadOnlyList<UserTcpSetting> All { get; } =
    [
        // 1280: IPv6's minimum link MTU, which is also room for any IPv4 header and a useful MSS.
        new() { Name = nameof(UserTcpOptions.Mtu), Min = 1280, Max = 65535, Accepted = "1280 to 65535 bytes", Get = o => o.Mtu },
        new() { Name = nameof(UserTcpOptions.Mss), Min = 0, Max = 65495, Accepted = "0 (derived from Mtu) or 88 to 65495 bytes", Get = o => o.Mss },
        new() { Name = nameof(UserTcpOptions.ReceiveBufferSize), Min = 4096, Max = 64 << 20, Accepted = "4 KiB to 64 MiB", Get = o => o.ReceiveBufferSize },
        new() { Name = nameof(UserTcpOptions.SendBufferSize), Min = 4096, Max = 64 << 20, Accepted = "4 KiB to 64 MiB", Get = o => o.SendBufferSize },
        new() { Name = nameof(UserTcpOptions.DelayedAck), Min = 0, Max = 500, IsDuration = true, Accepted = "0 to 500 ms (RFC 1122)", Get = o => Ms(o.DelayedAck) },
        new() { Name = nameof(UserTcpOptions.KeepAliveIdle), Min = 0, Max = 24 * Hour, IsDuration = true, Accepted = "0 (off) to 24 hours", Get = o => Ms(o.KeepAliveIdle) },
        new() { Name = nameof(UserTcpOptions.KeepAliveInterval), Min = 1, Max = Hour, IsDuration = true, Accepted = "1 ms to 1 hour", Get = o => Ms(o.KeepAliveInterval) },
        new() { Name = nameof(UserTcpOptions.KeepAliveProbes), Min = 1, Max = 127, Accepted = "1 to 127", Get = o => o.KeepAliveProbes },
        new() { Name = nameof(UserTcpOptions.MinRto), Min = 1, Max = 60_000, IsDuration = true, Accepted = "1 ms to 60 s", Get = o => Ms(o.MinRto) },
        new() { Name = nameof(UserTcpOptions.MaxRto), Min = 1, Max = 600_000, IsDuration = true, Accepted = "1 ms to 600 s", Get = o => Ms(o.MaxRto) },
        new() { Name = nameof(UserTcpOptions.MaxRetransmits), Min = 1, Max = 100, Accepted = "1 to 100", Get = o => o.MaxRetransmits },
        new() { Name = nameof(UserTcpOptions.MaxSynRetransmits), Min = 1, Max = 20, Accepted = "1 to 20", Get = o => o.MaxSynRetransmits },
        new() { Name = nameof(UserTcpOptions.TimeWait), Min = 0, Max = 600_000, IsDuration = true, Accepted = "0 to 600 s", Get = o => Ms(o.TimeWait) },
        new() { Name = nameof(UserTcpOptions.MaxConnections), Min = 1, Max = 16_000_000, Accepted = "1 to 16,000,000", Get = o => o.MaxConnections },
        new() { Name = nameof(UserTcpOptions.SynBacklog), Min = 1, Max = 1_000_000, Accepted = "1 to 1,000,000", Get = o => o.SynBacklog },
        new() { Name = nameof(UserTcpOptions.RateLimitBytesPerSecond), Min = 0, Max = long.MaxValue, Accepted = "0 (none) or a positive byte rate", Get = o => o.RateLimitBytesPerSecond },
        new() { Name = nameof(UserTcpOptions.QueueCount), Min = 1, Max = UserTcpOptions.MaxQueueCount, Accepted = $"1 to {UserTcpOptions.MaxQueueCount}", Get = o => o.QueueCount },
        new() { Name = nameof(UserTcpOptions.AcceptQueueDepth), Min = 1, Max = 65535, Accepted = "1 to 65535", Get = o => o.AcceptQueueDepth },
        new() { Name = nameof(UserTcpOptions.MaxReadBufferSize), Min = 4096, Max = 1L << 30, Accepted = "4 KiB to 1 GiB", Get = o => o.MaxReadBufferSize },
        new() { Name = nameof(UserTcpOptions.MaxWriteBufferSize), Min = 4096, Max = 1L << 30, Accepted = "4 KiB to 1 GiB", Get = o => o.MaxWriteBufferSize },
    ];

    // A negative or sub-ms duration reads as -1, below every minimum, so it is reported rather than rounded to 0.
    private static long Ms(TimeSpan value) =>
        value < TimeSpan.Zero || (value > TimeSpan.Zero && value < TimeSpan.FromMilliseconds(1)) ? -1 : (long)Math.Min(long.MaxValue / 2, value.TotalMilliseconds);
}
