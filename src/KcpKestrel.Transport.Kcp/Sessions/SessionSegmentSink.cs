using KcpKestrel.Core.Fec;

namespace KcpKestrel.Transport.Kcp.Sessions;

/// <summary>Hands what the FEC decoder delivers to the session's KCP input; rebuilt packets are not "regular" (kcp-go).</summary>
internal readonly struct SessionSegmentSink(KcpSession session) : IFecSink
{
    public void OnKcpPayload(ReadOnlySpan<byte> kcpBytes, bool recovered) => session.InputKcp(kcpBytes, regular: !recovered);
}
