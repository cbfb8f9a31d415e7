using KcpKestrel.Transport.UserTcp.Tcp;

namespace KcpKestrel.Transport.UserTcp.Tests.Packets;

/// <summary>An <see cref="ITcpSegmentInput"/> that only counts (allocation tests).</summary>
internal sealed class CountingSegmentInput : ITcpSegmentInput
{
    public long Count;

    public void OnSegment(in TcpFlowKey flow, in TcpHeader header, ReadOnlySpan<byte> payload, uint now) => Count++;
}
