namespace KcpKestrel.Transport.Kcp.Client;

/// <summary>Options of <see cref="KcpConnectionFactory"/>.</summary>
public sealed class KcpClientOptions
{
    /// <summary>KCP settings; crypt, key and FEC shards must match the server's.</summary>
    public KcpOptions Kcp { get; set; } = new();

    /// <summary>
    /// Whether a dial waits for the server to answer a window probe before it returns (KCP has no
    /// handshake; kcp-go servers answer probes too). Off: the dial returns at once, like kcp-go's.
    /// </summary>
    public bool WaitForPeer { get; set; } = true;

    /// <summary>How long one dial attempt waits for the server's answer.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Attempts after the first (jittered exponential backoff); 0 turns retries off.</summary>
    public int ConnectRetries { get; set; } = 3;

    /// <summary>Base delay of the retry backoff.</summary>
    public TimeSpan ConnectRetryDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Client I/O loops shared by every connection of the factory.</summary>
    public int IoLoopCount { get; set; } = 1;

    /// <summary>
    /// With <see cref="KcpOptions.Multiplexing"/> = <see cref="KcpMultiplexing.Smux"/>: sessions per endpoint that
    /// new streams are spread over, round robin (kcptun <c>--conn</c>, 1 to 256).
    /// </summary>
    public int SessionsPerEndpoint { get; set; } = 1;

    /// <summary>
    /// With smux: a pooled session takes new streams for this long, then is replaced by a fresh one
    /// (kcptun <c>--autoexpire</c>; zero, the default, never expires). Streams already open on it go on.
    /// </summary>
    public TimeSpan AutoExpire { get; set; } = TimeSpan.Zero;

    /// <summary>
    /// With smux and a positive <see cref="AutoExpire"/>: how long an expired session may live on for its open streams
    /// before it is closed (kcptun <c>--scavengettl</c>, 600 seconds). As in kcptun, the session is closed then whether or
    /// not streams remain, and not sooner when its last stream ends.
    /// </summary>
    public TimeSpan ScavengeTtl { get; set; } = TimeSpan.FromSeconds(600);

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad setting.</summary>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(Kcp, nameof(Kcp));
        Kcp.Validate();
        if (ConnectTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException($"{nameof(ConnectTimeout)} = {ConnectTimeout} is not valid; accepted: a positive time.", nameof(ConnectTimeout));
        }

        if (ConnectRetries is < 0 or > 100)
        {
            throw new ArgumentException($"{nameof(ConnectRetries)} = {ConnectRetries} is not valid; accepted: 0 to 100.", nameof(ConnectRetries));
        }

        if (ConnectRetryDelay < TimeSpan.Zero)
        {
            throw new ArgumentException($"{nameof(ConnectRetryDelay)} = {ConnectRetryDelay} is not valid; accepted: zero or a positive time.", nameof(ConnectRetryDelay));
        }

        if (SessionsPerEndpoint is < 1 or > 256)
        {
            throw new ArgumentException($"{nameof(SessionsPerEndpoint)} = {SessionsPerEndpoint} is not valid; accepted: 1 to 256.", nameof(SessionsPerEndpoint));
        }

        if (AutoExpire < TimeSpan.Zero)
        {
            throw new ArgumentException($"{nameof(AutoExpire)} = {AutoExpire} is not valid; accepted: zero (never) or a positive time.", nameof(AutoExpire));
        }

        if (ScavengeTtl < TimeSpan.Zero)
        {
            throw new ArgumentException($"{nameof(ScavengeTtl)} = {ScavengeTtl} is not valid; accepted: zero or a positive time.", nameof(ScavengeTtl));
        }

        if (IoLoopCount is < 1 or > 64)
        {
            throw new ArgumentException($"{nameof(IoLoopCount)} = {IoLoopCount} is not valid; accepted: 1 to 64.", nameof(IoLoopCount));
        }
    }
}
