namespace KcpKestrel.Transport.Kcp;

/// <summary>
/// kcptun's <c>--mode</c> presets for KCP's (nodelay, interval, resend, nc), slowest first, with kcptun's values
/// (written once, in the engine's preset table).
/// </summary>
public enum KcpMode
{
    /// <summary>kcptun <c>--mode normal</c>.</summary>
    Normal,

    /// <summary>kcptun <c>--mode fast</c> (the default).</summary>
    Fast,

    /// <summary>kcptun <c>--mode fast2</c>.</summary>
    Fast2,

    /// <summary>kcptun <c>--mode fast3</c>: the lowest latency.</summary>
    Fast3,

    /// <summary>Use <see cref="KcpOptions.NoDelay"/>, <see cref="KcpOptions.Interval"/>, <see cref="KcpOptions.Resend"/> and <see cref="KcpOptions.NoCongestionControl"/> as given.</summary>
    Manual,
}
