namespace KcpKestrel.Middleware;

/// <summary>Options of <c>UseConnectionRateLimiter</c>. Every limit is off until set.</summary>
public sealed class ConnectionRateLimiterOptions
{
    /// <summary>New connections accepted per address prefix per <see cref="NewConnectionWindow"/>; 0 = no limit.</summary>
    public int NewConnectionLimit { get; set; }

    /// <summary>The fixed window <see cref="NewConnectionLimit"/> counts over (default 1 s).</summary>
    public TimeSpan NewConnectionWindow { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Prefix length IPv4 peers are grouped by for <see cref="NewConnectionLimit"/> (default 24; 32 = per address).</summary>
    public int IPv4PrefixLength { get; set; } = 24;

    /// <summary>
    /// Prefix length IPv6 peers are grouped by for <see cref="NewConnectionLimit"/> and <see cref="ConcurrentConnectionLimit"/>:
    /// 1 to 128, default 64 (a host usually owns a whole /64, so per-address limits would not hold it); 128 = per address.
    /// IPv4-mapped IPv6 peers (dual-mode sockets) count as IPv4.
    /// </summary>
    public int IPv6PrefixLength { get; set; } = 64;

    /// <summary>Connections open at once per IPv4 address or per IPv6 prefix of <see cref="IPv6PrefixLength"/> bits; 0 = no limit.</summary>
    public int ConcurrentConnectionLimit { get; set; }

    /// <summary>Per-connection bandwidth in bytes per second, applied to each direction separately; 0 = no limit.</summary>
    public long BandwidthLimit { get; set; }

    /// <summary>Bytes a connection may move in a burst above <see cref="BandwidthLimit"/>; 0 = a tenth of a second's worth (at least 16 KiB).</summary>
    public long BandwidthBurst { get; set; }

    /// <summary>The clock of the bandwidth limiter; null = the host's <see cref="System.TimeProvider"/> service, else the system clock.</summary>
    public TimeProvider? TimeProvider { get; set; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first option out of range.</summary>
    public void Validate()
    {
        Check(NewConnectionLimit >= 0, nameof(NewConnectionLimit), "0 (no limit) or more");
        Check(NewConnectionWindow > TimeSpan.Zero, nameof(NewConnectionWindow), "positive");
        Check(IPv4PrefixLength is >= 0 and <= 32, nameof(IPv4PrefixLength), "0 to 32");
        Check(IPv6PrefixLength is >= 1 and <= 128, nameof(IPv6PrefixLength), "1 to 128");
        Check(ConcurrentConnectionLimit >= 0, nameof(ConcurrentConnectionLimit), "0 (no limit) or more");
        Check(BandwidthLimit >= 0, nameof(BandwidthLimit), "0 (no limit) or more");
        Check(BandwidthBurst >= 0, nameof(BandwidthBurst), "0 (default) or more");
    }

    internal long EffectiveBurst => BandwidthBurst > 0 ? BandwidthBurst : Math.Max(16 * 1024, BandwidthLimit / 10);

    private static void Check(bool ok, string name, string expected)
    {
        if (!ok)
        {
            throw new ArgumentException($"{name} must be {expected}.", name);
        }
    }
}
