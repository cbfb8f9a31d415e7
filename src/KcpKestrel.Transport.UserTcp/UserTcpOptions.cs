using System.Diagnostics.CodeAnalysis;
using KcpKestrel.Transport.UserTcp.Tcp;

namespace KcpKestrel.Transport.UserTcp;

/// <summary>
/// The settings of a user-space TCP endpoint or client. Each setting's range and meaning are in one table,
/// <c>UserTcpSettings</c> (a new setting is a property here and an entry there); the defaults are the property
/// initializers below.
/// </summary>
public sealed class UserTcpOptions
{
    /// <summary>Most device queues (I/O loops) one endpoint runs.</summary>
    public const int MaxQueueCount = 64;

    /// <summary>Largest IP packet, header included; the TUN device is given this MTU. Default 1500.</summary>
    public int Mtu { get; set; } = 1500;

    /// <summary>The MSS announced in SYNs; 0 derives it from <see cref="Mtu"/> (less 40 bytes of headers for IPv4, 60 for IPv6).</summary>
    public int Mss { get; set; }

    /// <summary>Receive buffer per connection in bytes: the ceiling of the advertised window (window scaling follows). Default 256 KiB.</summary>
    public int ReceiveBufferSize { get; set; } = 256 * 1024;

    /// <summary>Send buffer per connection in bytes. Default 256 KiB.</summary>
    public int SendBufferSize { get; set; } = 256 * 1024;

    /// <summary>Delayed-ACK timeout (RFC 1122 allows up to 500 ms); zero acknowledges every segment. Default 40 ms.</summary>
    public TimeSpan DelayedAck { get; set; } = TimeSpan.FromMilliseconds(40);

    /// <summary>Sends small segments at once (Nagle's algorithm off). Default true: Kestrel writes whole responses.</summary>
    public bool NoDelay { get; set; } = true;

    /// <summary>Idle time before the first keep-alive probe; zero turns keep-alive off. Default 2 hours (RFC 1122).</summary>
    public TimeSpan KeepAliveIdle { get; set; } = TimeSpan.FromHours(2);

    /// <summary>Time between keep-alive probes. Default 75 s.</summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(75);

    /// <summary>Unanswered keep-alive probes before the connection is dropped. Default 9.</summary>
    public int KeepAliveProbes { get; set; } = 9;

    /// <summary>Smallest retransmission timeout (RFC 6298 says 1 s; Linux uses 200 ms). Default 200 ms.</summary>
    public TimeSpan MinRto { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Largest retransmission timeout. Default 120 s.</summary>
    public TimeSpan MaxRto { get; set; } = TimeSpan.FromSeconds(120);

    /// <summary>Retransmissions of one segment before the connection times out (Linux's tcp_retries2). Default 15.</summary>
    public int MaxRetransmits { get; set; } = 15;

    /// <summary>SYN or SYN-ACK retransmissions before an open fails. Default 6.</summary>
    public int MaxSynRetransmits { get; set; } = 6;

    /// <summary>How long a closed connection's 4-tuple stays in TIME-WAIT (2 MSL). Default 60 s, as Linux.</summary>
    public TimeSpan TimeWait { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Most connections per I/O loop, TIME-WAIT included; SYNs beyond it are dropped and counted. Default 1,000,000.</summary>
    public int MaxConnections { get; set; } = 1_000_000;

    /// <summary>Most half-open (SYN-RECEIVED) connections per I/O loop; past it, SYNs are answered with cookies. Default 1024.</summary>
    public int SynBacklog { get; set; } = 1024;

    /// <summary>Answers SYNs with cookies (RFC 4987) once <see cref="SynBacklog"/> is full; false drops them. Default true.</summary>
    public bool SynCookies { get; set; } = true;

    /// <summary>Per-connection send rate limit in bytes per second, composed with congestion control; 0 for none.</summary>
    public long RateLimitBytesPerSecond { get; set; }

    /// <summary>Offers and accepts SACK (RFC 2018). Default true.</summary>
    public bool Sack { get; set; } = true;

    /// <summary>Offers and accepts timestamps (RFC 7323). Default true.</summary>
    public bool Timestamps { get; set; } = true;

    /// <summary>Offers and accepts window scaling (RFC 7323). Default true.</summary>
    public bool WindowScaling { get; set; } = true;

    /// <summary>Device queues, one I/O loop thread and one TCP stack each (a multiqueue TUN device past 1). Default 1.</summary>
    public int QueueCount { get; set; } = 1;

    /// <summary>Connections established and not yet taken by Kestrel, per endpoint; more are reset. Default 512.</summary>
    public int AcceptQueueDepth { get; set; } = 512;

    /// <summary>Received bytes a connection holds for the app before it stops reading from TCP (its window then closes). Default 1 MiB.</summary>
    public long MaxReadBufferSize { get; set; } = 1024 * 1024;

    /// <summary>Bytes the app may write ahead of TCP before its flushes wait. Default 64 KiB.</summary>
    public long MaxWriteBufferSize { get; set; } = 64 * 1024;

    /// <summary>A copy.</summary>
    /// <returns>The copy.</returns>
    public UserTcpOptions Clone() => (UserTcpOptions)MemberwiseClone();

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting out of range and what it accepts.</summary>
    public void Validate()
    {
        if (!TryValidate(out var error))
        {
            throw new ArgumentException(error);
        }
    }

    /// <summary>Checks every setting and the rules between them.</summary>
    /// <param name="error">The first problem, naming the setting, its value and what is accepted.</param>
    /// <returns>Whether all are valid.</returns>
    public bool TryValidate([NotNullWhen(false)] out string? error)
    {
        foreach (var setting in UserTcpSettings.All)
        {
            var value = setting.Get(this);
            if (value < setting.Min || value > setting.Max)
            {
                error = $"User-space TCP option {setting.Name} = {setting.Format(value)} is not valid; accepted: {setting.Accepted}.";
                return false;
            }
        }

        if (Mss is > 0 and < 88)
        {
            // Linux's floor (TCP_MIN_MSS): below it every segment would be mostly headers.
            error = $"User-space TCP option Mss = {Mss} is not valid; accepted: 0 (derived from Mtu) or 88 to 65495 bytes.";
            return false;
        }

        if (MaxRto < MinRto)
        {
            error = $"User-space TCP option MaxRto = {MaxRto} is less than MinRto = {MinRto}; accepted: MaxRto >= MinRto.";
            return false;
        }

        if (Mss != 0 && Mss > Mtu - 40)
        {
            error = $"User-space TCP option Mss = {Mss} does not fit Mtu = {Mtu}; accepted: 0 (derived) or at most Mtu - 40.";
            return false;
        }

        error = null;
        return true;
    }

    /// <summary>The MSS announced for a family: <see cref="Mss"/>, or derived from <see cref="Mtu"/>.</summary>
    internal ushort EffectiveMss(bool isIPv6)
    {
        var headers = isIPv6 ? 60 : 40;
        var derived = Mtu - headers;
        return (ushort)Math.Clamp(Mss == 0 ? derived : Math.Min(Mss, derived), 64, 65495);
    }

    /// <summary>What each connection is configured with.</summary>
    internal TcpConnectionOptions ToConnectionOptions(bool isIPv6) => new()
    {
        Mss = EffectiveMss(isIPv6),
        ReceiveBufferSize = ReceiveBufferSize,
        SendBufferSize = SendBufferSize,
        DelayedAckMs = (int)DelayedAck.TotalMilliseconds,
        NoDelay = NoDelay,
        KeepAliveIdleMs = (int)Math.Min(int.MaxValue, KeepAliveIdle.TotalMilliseconds),
        KeepAliveIntervalMs = (int)KeepAliveInterval.TotalMilliseconds,
        KeepAliveProbes = KeepAliveProbes,
        MinRtoMs = (int)MinRto.TotalMilliseconds,
        MaxRtoMs = (int)MaxRto.TotalMilliseconds,
        MaxRetransmits = MaxRetransmits,
        MaxSynRetransmits = MaxSynRetransmits,
        TimeWaitMs = (int)TimeWait.TotalMilliseconds,
        RateLimitBytesPerSecond = RateLimitBytesPerSecond,
        Sack = Sack,
        Timestamps = Timestamps,
        WindowScaling = WindowScaling,
    };
}
