namespace KcpKestrel.Transport.UserTcp.Tcp;

/// <summary>
/// Where the TCP layer's segments go: the packet layer adds the IP header, the ports and both checksums, and hands
/// the packet to its queue. Loop thread only; the spans are valid only during the call.
/// </summary>
internal interface ITcpSegmentOutput
{
    /// <summary>
    /// Sends one segment of <paramref name="flow"/>. Its payload is <paramref name="payload"/> followed by
    /// <paramref name="payloadTail"/> (a send ring's wrap; usually empty).
    /// </summary>
    void Send(in TcpFlowKey flow, in TcpHeader header, ReadOnlySpan<byte> payload, ReadOnlySpan<byte> payloadTail);
}
