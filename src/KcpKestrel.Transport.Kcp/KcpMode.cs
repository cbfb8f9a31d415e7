namespace KcpKestrel.Transport.Kcp;

/// <summary>kcptun's presets for KCP's (nodelay, interval, resend, nc).</summary>
public enum KcpMode
{
    /// <summary>(0, 40, 2, 1).</summary>
    Normal,

    /// <summary>(0, 30, 2, 1).</summary>
    Fast,

    /// <summary>(1, 20, 2, 1).</summary>
    Fast2,

    /// <summary>(1, 10, 2, 1).</summary>
    Fast3,

    /// <summary>Use <see cref="KcpOptions.NoDelay"/>, <see cref="KcpOptions.Interval"/>, <see cref="KcpOptions.Resend"/> and <see cref="KcpOptions.NoCongestionControl"/> as given.</summary>
    Manual,
}
