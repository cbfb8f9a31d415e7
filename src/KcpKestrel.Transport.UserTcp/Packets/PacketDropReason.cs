namespace KcpKestrel.Transport.UserTcp.Packets;

/// <summary>Why the packet layer dropped an incoming packet; each drop is counted under exactly one.</summary>
internal enum PacketDropReason : byte
{
    /// <summary>Not dropped.</summary>
    None = 0,

    /// <summary>The IP version nibble is neither 4 nor 6.</summary>
    BadVersion,

    /// <summary>Shorter than its headers or than the length its IP header claims.</summary>
    Truncated,

    /// <summary>An IP header that cannot be right: IHL under 5, a total length shorter than the header.</summary>
    BadIpHeader,

    /// <summary>The IPv4 header checksum does not verify.</summary>
    BadIpChecksum,

    /// <summary>A fragment (IPv4 MF or offset, IPv6 Fragment header): this stack never reassembles.</summary>
    Fragment,

    /// <summary>Not TCP (IPv6: TCP not directly the next header).</summary>
    NotTcp,

    /// <summary>Addressed to none of the stack's addresses.</summary>
    NotOurAddress,

    /// <summary>From a source no TCP peer can have: unspecified, loopback, multicast, broadcast, v4-mapped.</summary>
    MartianSource,

    /// <summary>The TCP checksum (with its pseudo-header) does not verify.</summary>
    BadTcpChecksum,

    /// <summary>A TCP header that cannot be right: a data offset outside 5..15 or past the packet, a zero port.</summary>
    BadTcpHeader,

    /// <summary>TCP options with forged lengths: 0 or 1, past the header, or wrong for a known kind.</summary>
    BadOptions,
}
