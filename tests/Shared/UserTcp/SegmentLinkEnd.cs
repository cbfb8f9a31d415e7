using KcpKestrel.Shared;
using KcpKestrel.Transport.UserTcp.Tcp;

namespace KcpKestrel.Tests.Shared.UserTcp;

/// <summary>
/// One end of a <see cref="SegmentLink"/>: the <see cref="ITcpSegmentOutput"/> its side sends into (the segments go
/// to the other end, through the link's seeded impairments) and the <see cref="ITcpSegmentInput"/> segments from the
/// other side are delivered to. The impairment settings apply to what this end sends.
/// </summary>
internal sealed class SegmentLinkEnd : ITcpSegmentOutput
{
    private readonly SegmentLink _link;

    internal SegmentLinkEnd(SegmentLink link, string name)
    {
        _link = link;
        Name = name;
    }

    /// <summary>"A" or "B", for messages.</summary>
    public string Name { get; }

    /// <summary>The other end.</summary>
    public SegmentLinkEnd Peer { get; internal set; } = null!;

    /// <summary>Where segments arriving at this end go (a connection's owner, a stack); null drops them.</summary>
    public ITcpSegmentInput? Input { get; set; }

    /// <summary>This side's timer wheel, advanced by the link's clock.</summary>
    public TimerWheel Timers { get; } = new();

    /// <summary>Fraction (0-1) of sent segments lost.</summary>
    public double LossRate { get; set; }

    /// <summary>Fraction (0-1) of sent segments delivered twice.</summary>
    public double DuplicateRate { get; set; }

    /// <summary>Fraction (0-1) of sent segments held back by <see cref="ReorderDelayMs"/> extra, so later ones pass them.</summary>
    public double ReorderRate { get; set; }

    /// <summary>The extra delay of a reordered segment.</summary>
    public int ReorderDelayMs { get; set; } = 5;

    /// <summary>One-way delay in ms of what this end sends.</summary>
    public int DelayMs { get; set; } = 1;

    /// <summary>Sees every segment this end sends before the impairments; returning false drops it (counted in <see cref="Filtered"/>).</summary>
    public SegmentFilter? Filter { get; set; }

    /// <summary>Segments this end sent (before the impairments).</summary>
    public long Sent { get; internal set; }

    /// <summary>Payload bytes this end sent (before the impairments).</summary>
    public long SentBytes { get; internal set; }

    /// <summary>Segments the link lost on the way from this end.</summary>
    public long Lost { get; internal set; }

    /// <summary>Segments the link duplicated.</summary>
    public long Duplicated { get; internal set; }

    /// <summary>Segments the link reordered.</summary>
    public long Reordered { get; internal set; }

    /// <summary>Segments <see cref="Filter"/> dropped.</summary>
    public long Filtered { get; internal set; }

    /// <summary>Segments delivered to this end's <see cref="Input"/>.</summary>
    public long Delivered { get; internal set; }

    /// <summary>Sends into the link (called by this side's TCP).</summary>
    public void Send(in TcpFlowKey flow, in TcpHeader header, ReadOnlySpan<byte> payload, ReadOnlySpan<byte> payloadTail) =>
        _link.Transmit(this, flow, header, payload, payloadTail);

    /// <summary>Delivers a forged or replayed segment to this end at once, as if the other end had sent it (flow from this end's view).</summary>
    public void Inject(in TcpFlowKey flow, in TcpHeader header, ReadOnlySpan<byte> payload)
    {
        Delivered++;
        Input?.OnSegment(flow, header, payload, _link.Now);
    }
}
