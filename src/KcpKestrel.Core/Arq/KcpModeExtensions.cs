namespace KcpKestrel.Core.Arq;

/// <summary>Applies kcptun's <see cref="KcpMode"/> presets to a control block.</summary>
internal static class KcpModeExtensions
{
    /// <summary>The <c>(nodelay, interval, resend, nc)</c> tuple kcptun uses for <paramref name="mode"/>.</summary>
    public static (int NoDelay, int Interval, int Resend, bool NoCongestionControl) GetNoDelay(this KcpMode mode) => mode switch
    {
        KcpMode.Normal => (0, 40, 2, true),
        KcpMode.Fast => (0, 30, 2, true),
        KcpMode.Fast2 => (1, 20, 2, true),
        KcpMode.Fast3 => (1, 10, 2, true),
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown KCP mode."),
    };

    /// <summary>Calls <see cref="KcpControlBlock.SetNoDelay"/> with the preset of <paramref name="mode"/>.</summary>
    public static void Apply(this KcpControlBlock kcp, KcpMode mode)
    {
        ArgumentNullException.ThrowIfNull(kcp);
        var (nodelay, interval, resend, nc) = mode.GetNoDelay();
        kcp.SetNoDelay(nodelay, interval, resend, nc);
    }
}
