using KcpKestrel.Transport.UserTcp.Tcp;

namespace KcpKestrel.Transport.UserTcp.Tests.Packets;

/// <summary>An <see cref="ITcpSegmentInput"/> that keeps what it is given (payloads copied).</summary>
internal sealed class RecordingSegmentInput : ITcpSegmentInput
{
    public List<(TcpFlowKey Flow, TcpHeader Header, byte[] Payload, uint Now)> Segments { get; } = [];

    public void OnSegment(in TcpFlowKey flow, in TcpHeader header, ReadOnlySpan<byte> payload, uint now) =>
        Segments.Add((flow, header, payload.ToArray(), now));
}
