using KcpKestrel.Transport.UserTcp.Tcp;

namespace KcpKestrel.Transport.UserTcp.Packets;

/// <summary>
/// The packet layer's way in: checks one received IP packet (IPv4 or IPv6) all the way down to its TCP options and
/// hands the segment to the TCP layer, or drops it counted under one <see cref="PacketDropReason"/>. Never throws on
/// any input. Loop thread only.
/// </summary>
internal sealed class PacketDispatcher
{
    private readonly ITcpSegmentInput _input;
    private readonly PacketCounters _counters;

    // The stack's own addresses (IPv4 v4-mapped, as TcpFlowKey holds them): few, so a linear scan beats a hash.
    private readonly UInt128[] _localAddresses;

    public PacketDispatcher(ReadOnlySpan<UInt128> localAddresses, ITcpSegmentInput input, PacketCounters counters)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(counters);
        _localAddresses = localAddresses.ToArray();
        _input = input;
        _counters = counters;
    }

    /// <summary>The counters this dispatcher adds to.</summary>
    public PacketCounters Counters => _counters;

    /// <summary>Takes one received IP packet at <paramref name="now"/>; what was done with it.</summary>
    public PacketDropReason OnPacket(ReadOnlySpan<byte> packet, uint now)
    {
        _counters.PacketsIn++;
        _counters.BytesIn += packet.Length;
        var reason = Dispatch(packet, now);
        if (reason != PacketDropReason.None)
        {
            _counters.CountDrop(reason);
        }

        return reason;
    }

    private PacketDropReason Dispatch(ReadOnlySpan<byte> packet, uint now)
    {
        if (packet.IsEmpty)
        {
            return PacketDropReason.Truncated;
        }

        return (packet[0] >> 4) switch
        {
            4 => DispatchIPv4(packet, now),
            6 => DispatchIPv6(packet, now),
            _ => PacketDropReason.BadVersion,
        };
    }

    private PacketDropReason DispatchIPv4(ReadOnlySpan<byte> packet, uint now)
    {
        var reason = Ipv4Header.TryRead(packet, out var ip);
        if (reason != PacketDropReason.None)
        {
            return reason;
        }

        if (ip.Protocol != Ipv4Header.ProtocolTcp)
        {
            return PacketDropReason.NotTcp;
        }

        var local = TcpFlowKey.FromIPv4(ip.Destination);
        if (!IsLocal(local))
        {
            return PacketDropReason.NotOurAddress;
        }

        if (Ipv4Header.IsMartianSource(ip.Source))
        {
            return PacketDropReason.MartianSource;
        }

        var tcp = ip.Payload;
        ushort pseudo = InternetChecksum.PseudoHeaderSumIPv4(ip.Source, ip.Destination, Ipv4Header.ProtocolTcp, tcp.Length);
        return DispatchTcp(tcp, pseudo, local, TcpFlowKey.FromIPv4(ip.Source), isIPv6: false, now);
    }

    private PacketDropReason DispatchIPv6(ReadOnlySpan<byte> packet, uint now)
    {
        var reason = Ipv6Header.TryRead(packet, out var ip);
        if (reason != PacketDropReason.None)
        {
            return reason;
        }

        var local = TcpFlowKey.FromIPv6(ip.Destination);
        if (!IsLocal(local))
        {
            return PacketDropReason.NotOurAddress;
        }

        if (Ipv6Header.IsMartianSource(ip.Source))
        {
            return PacketDropReason.MartianSource;
        }

        var tcp = ip.Payload;
        ushort pseudo = InternetChecksum.PseudoHeaderSumIPv6(ip.Source, ip.Destination, Ipv6Header.NextHeaderTcp, tcp.Length);
        return DispatchTcp(tcp, pseudo, local, TcpFlowKey.FromIPv6(ip.Source), isIPv6: true, now);
    }

    private PacketDropReason DispatchTcp(ReadOnlySpan<byte> tcp, ushort pseudoHeaderSum, UInt128 local, UInt128 remote, bool isIPv6, uint now)
    {
        if (tcp.Length < TcpSegmentCodec.MinHeaderLength)
        {
            return PacketDropReason.Truncated;
        }

        // The checksum first: options are not worth parsing in a segment that is not the one the peer sent.
        if (!InternetChecksum.IsTcpValid(pseudoHeaderSum, tcp))
        {
            return PacketDropReason.BadTcpChecksum;
        }

        var reason = TcpSegmentCodec.TryRead(tcp, out ushort sourcePort, out ushort destinationPort, out var header, out var payload);
        if (reason != PacketDropReason.None)
        {
            return reason;
        }

        // Port 0 is reserved (RFC 6335 §6): no connection can use it, so it is a crafted segment.
        if (sourcePort == 0 || destinationPort == 0)
        {
            return PacketDropReason.BadTcpHeader;
        }

        var flow = new TcpFlowKey(local, destinationPort, remote, sourcePort, isIPv6);
        _input.OnSegment(flow, header, payload, now);
        return PacketDropReason.None;
    }

    private bool IsLocal(UInt128 address)
    {
        foreach (var local in _localAddresses)
        {
            if (local == address)
            {
                return true;
            }
        }

        return false;
    }
}
