namespace KcpKestrel.Transport.Kcp;

/// <summary>Options of the KCP transport in a host (<c>UseKcp</c>), bound from the <c>Kcp</c> configuration section.</summary>
public sealed class KcpTransportOptions
{
    /// <summary>Settings every KCP endpoint starts from; <c>ListenKcp</c>'s callback changes them per endpoint.</summary>
    public KcpOptions Defaults { get; set; } = new();
}
