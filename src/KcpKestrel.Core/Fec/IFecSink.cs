namespace KcpKestrel.Core.Fec;

/// <summary>Receives KCP bytes from the FEC decoder: each data shard as it arrives and each one rebuilt from parity.</summary>
internal interface IFecSink
{
    /// <summary>The span is valid only for the duration of the call.</summary>
    /// <param name="kcpBytes">The KCP segments of one datagram.</param>
    /// <param name="recovered">
    /// True for a packet rebuilt from parity: its wnd and ts are stale, so KCP takes it as kcp-go does
    /// (<c>Input(data, regular: false)</c>), without updating rmt_wnd or the RTT estimate.
    /// </param>
    void OnKcpPayload(ReadOnlySpan<byte> kcpBytes, bool recovered);
}
