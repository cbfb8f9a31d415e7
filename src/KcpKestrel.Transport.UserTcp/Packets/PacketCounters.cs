namespace KcpKestrel.Transport.UserTcp.Packets;

/// <summary>
/// One loop's packet-layer counters, written by its thread only and read (torn reads tolerated) by metrics. Every
/// dropped incoming packet is counted under exactly one <see cref="PacketDropReason"/>.
/// </summary>
internal sealed class PacketCounters
{
    public long PacketsIn;
    public long PacketsOut;
    public long BytesIn;
    public long BytesOut;

    // Incoming drops, one field per PacketDropReason.
    public long BadVersion;
    public long Truncated;
    public long BadIpHeader;
    public long BadIpChecksum;
    public long Fragment;
    public long NotTcp;
    public long NotOurAddress;
    public long MartianSource;
    public long BadTcpChecksum;
    public long BadTcpHeader;
    public long BadOptions;

    /// <summary>Outgoing segments too big for the MTU (a TCP-layer bug if ever non-zero): not sent.</summary>
    public long OutTooBig;

    /// <summary>Outgoing packets the packet source dropped (a full TUN queue: EAGAIN/ENOBUFS).</summary>
    public long OutDropped;

    /// <summary>Incoming packets dropped, all reasons.</summary>
    public long Dropped =>
        BadVersion + Truncated + BadIpHeader + BadIpChecksum + Fragment + NotTcp + NotOurAddress + MartianSource
        + BadTcpChecksum + BadTcpHeader + BadOptions;

    /// <summary>Counts one drop under <paramref name="reason"/>.</summary>
    public void CountDrop(PacketDropReason reason)
    {
        switch (reason)
        {
            case PacketDropReason.BadVersion: BadVersion++; break;
            case PacketDropReason.Truncated: Truncated++; break;
            case PacketDropReason.BadIpHeader: BadIpHeader++; break;
            case PacketDropReason.BadIpChecksum: BadIpChecksum++; break;
            case PacketDropReason.Fragment: Fragment++; break;
            case PacketDropReason.NotTcp: NotTcp++; break;
            case PacketDropReason.NotOurAddress: NotOurAddress++; break;
            case PacketDropReason.MartianSource: MartianSource++; break;
            case PacketDropReason.BadTcpChecksum: BadTcpChecksum++; break;
            case PacketDropReason.BadTcpHeader: BadTcpHeader++; break;
            case PacketDropReason.BadOptions: BadOptions++; break;
            default: break;
        }
    }

    /// <summary>The count under one reason (tests, metrics).</summary>
    public long DropsOf(PacketDropReason reason) => reason switch
    {
        PacketDropReason.BadVersion => BadVersion,
        PacketDropReason.Truncated => Truncated,
        PacketDropReason.BadIpHeader => BadIpHeader,
        PacketDropReason.BadIpChecksum => BadIpChecksum,
        PacketDropReason.Fragment => Fragment,
        PacketDropReason.NotTcp => NotTcp,
        PacketDropReason.NotOurAddress => NotOurAddress,
        PacketDropReason.MartianSource => MartianSource,
        PacketDropReason.BadTcpChecksum => BadTcpChecksum,
        PacketDropReason.BadTcpHeader => BadTcpHeader,
        PacketDropReason.BadOptions => BadOptions,
        _ => 0,
    };
}
