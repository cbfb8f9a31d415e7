namespace KcpKestrel.Core.Arq;

/// <summary>
/// KCP's <c>(nodelay, interval, resend, nc)</c> as one value, and kcptun's <c>--mode</c> presets of it:
/// the one table of those presets (the transport's <c>KcpMode</c> maps onto it; tests apply the same values).
/// </summary>
/// <param name="NoDelay">KCP nodelay: 1 uses the smaller minimum rto and no rto backoff doubling.</param>
/// <param name="Interval">Flush interval in ms.</param>
/// <param name="Resend">Fast retransmit after this many duplicate acks; 0 turns it off.</param>
/// <param name="NoCongestionControl">True turns cwnd off (kcptun's <c>nc 1</c>).</param>
internal readonly record struct KcpNoDelayPreset(int NoDelay, int Interval, int Resend, bool NoCongestionControl)
{
    /// <summary>kcptun <c>--mode normal</c>.</summary>
    public static KcpNoDelayPreset Normal { get; } = new(0, 40, 2, true);

    /// <summary>kcptun <c>--mode fast</c>.</summary>
    public static KcpNoDelayPreset Fast { get; } = new(0, 30, 2, true);

    /// <summary>kcptun <c>--mode fast2</c>.</summary>
    public static KcpNoDelayPreset Fast2 { get; } = new(1, 20, 2, true);

    /// <summary>kcptun <c>--mode fast3</c>.</summary>
    public static KcpNoDelayPreset Fast3 { get; } = new(1, 10, 2, true);

    /// <summary>The four presets, slowest first.</summary>
    public static IReadOnlyList<KcpNoDelayPreset> All { get; } = [Normal, Fast, Fast2, Fast3];

    /// <summary>Calls <see cref="KcpControlBlock.SetNoDelay"/> with these values.</summary>
    public void ApplyTo(KcpControlBlock kcp)
    {
        ArgumentNullException.ThrowIfNull(kcp);
        kcp.SetNoDelay(NoDelay, Interval, Resend, NoCongestionControl);
    }
}
