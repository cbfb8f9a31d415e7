using KcpKestrel.Transport.UserTcp.Tcp;

namespace KcpKestrel.Transport.UserTcp.Tests.Stack;

/// <summary>
/// A segment output for the stack's own tests: counts what the stack sends and keeps the last segment (header and
/// flow), and, when <see cref="Keep"/> is set, every header. Keeping nothing allocates nothing.
/// </summary>
internal sealed class RecordingSegmentOutput : ITcpSegmentOutput
{
    /// <summary>Whether every header is kept in <see cref="Segments"/> (allocates; off for allocation tests).</summary>
    public bool Keep { get; set; } = true;

    public List<(TcpFlowKey Flow, TcpHeader Header, int PayloadLength)> Segments { get; } = [];

    public long Count { get; private set; }

    public TcpFlowKey LastFlow { get; private set; }

    public TcpHeader Last { get; private set; }

    public void Send(in TcpFlowKey flow, in TcpHeader header, ReadOnlySpan<byte> payload, ReadOnlySpan<byte> payloadTail)
    {
        Count++;
        LastFlow = flow;
        Last = header;
        if (Keep)
        {
            Segments.Add((flow, header, payload.Length + payloadTail.Length));
        }
    }

    public void Clear()
    {
        Segments.Clear();
        Count = 0;
    }
}
