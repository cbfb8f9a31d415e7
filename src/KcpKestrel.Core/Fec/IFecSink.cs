namespace KcpKestrel.Core.Fec;

/// <summary>Receives KCP bytes from the FEC decoder: each data shard as it arrives and each one rebuilt from parity.</summary>
internal interface IFecSink
{
    /// <summary>The span is valid only for the duration of the call.</summary>
    void OnKcpPayload(ReadOnlySpan<byte> kcpBytes);
}
