namespace KcpKestrel.Core.Arq;

/// <summary>The nodelay presets kcptun names (<c>--mode</c>).</summary>
internal enum KcpMode
{
    /// <summary>nodelay 0, interval 40, resend 2, nc 1.</summary>
    Normal,

    /// <summary>nodelay 0, interval 30, resend 2, nc 1.</summary>
    Fast,

    /// <summary>nodelay 1, interval 20, resend 2, nc 1.</summary>
    Fast2,

    /// <summary>nodelay 1, interval 10, resend 2, nc 1.</summary>
    Fast3,
}
