namespace KcpKestrel.Transport.UserTcp.Tcp;

/// <summary>
/// The TCP layer's way in: a segment the packet layer has parsed and checked (IP header, checksum, option lengths,
/// addressed to this stack). Loop thread only.
/// </summary>
internal interface ITcpSegmentInput
{
    /// <summary>Takes one segment of <paramref name="flow"/> at <paramref name="now"/> (the loop's ms clock).</summary>
    void OnSegment(in TcpFlowKey flow, in TcpHeader header, ReadOnlySpan<byte> payload, uint now);
}
