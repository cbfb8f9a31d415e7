using System.Buffers.Binary;
using KcpKestrel.Transport.UserTcp.Tcp;

namespace KcpKestrel.Transport.UserTcp.Packets;

/// <summary>
/// The packet layer's way out: wraps each segment of the TCP layer in an IPv4 header (TTL 64, DF, an incrementing
/// identification, header checksum) or an IPv6 header (hop limit 64), fills in the TCP checksum, and sends the
/// packet on a queue. One reusable buffer: nothing is allocated per packet. Loop thread only.
/// </summary>
internal sealed class PacketWriter : ITcpSegmentOutput
{
    /// <summary>The TTL and hop limit this stack sends with (Linux's default, net.ipv4.ip_default_ttl).</summary>
    public const byte DefaultTtl = 64;

    private readonly IPacketQueue _queue;
    private readonly PacketCounters _counters;
    private readonly byte[] _buffer;
    private ushort _identification;

    public PacketWriter(IPacketQueue queue, int mtu, PacketCounters counters, ushort firstIdentification = 0)
    {
        ArgumentNullException.ThrowIfNull(queue);
        ArgumentNullException.ThrowIfNull(counters);
        ArgumentOutOfRangeException.ThrowIfLessThan(mtu, Ipv6Header.Length + TcpSegmentCodec.MaxHeaderLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(mtu, 65535);
        _queue = queue;
        _counters = counters;
        _buffer = new byte[mtu];
        _identification = firstIdentification;
    }

    /// <summary>The largest packet this writer sends.</summary>
    public int Mtu => _buffer.Length;

    /// <inheritdoc />
    public void Send(in TcpFlowKey flow, in TcpHeader header, ReadOnlySpan<byte> payload, ReadOnlySpan<byte> payloadTail)
    {
        var length = Write(_buffer, flow, header, payload, payloadTail, ref _identification);
        if (length == 0)
        {
            _counters.OutTooBig++;
            return;
        }

        _counters.PacketsOut++;
        _counters.BytesOut += length;
        _queue.Send(_buffer.AsSpan(0, length));
    }

    /// <summary>
    /// Writes one whole IP packet carrying the segment into <paramref name="destination"/>; its length, or 0 when it
    /// does not fit. <paramref name="identification"/> is used for IPv4 and moved on.
    /// </summary>
    public static int Write(Span<byte> destination, in TcpFlowKey flow, in TcpHeader header, ReadOnlySpan<byte> payload, ReadOnlySpan<byte> payloadTail, ref ushort identification)
    {
        int ipLength = flow.IsIPv6 ? Ipv6Header.Length : Ipv4Header.MinLength;
        int tcpLength = TcpSegmentCodec.MinHeaderLength + TcpSegmentCodec.OptionsLength(header.Options) + payload.Length + payloadTail.Length;
        if (ipLength + tcpLength > destination.Length)
        {
            return 0;
        }

        Span<byte> source = stackalloc byte[16];
        Span<byte> target = stackalloc byte[16];
        TcpFlowKey.WriteAddress(flow.LocalAddress, flow.IsIPv6, source);
        TcpFlowKey.WriteAddress(flow.RemoteAddress, flow.IsIPv6, target);
        int addressLength = flow.IsIPv6 ? 16 : 4;
        source = source[..addressLength];
        target = target[..addressLength];

        var tcp = destination.Slice(ipLength, tcpLength);
        int headerLength = TcpSegmentCodec.Write(tcp, flow.LocalPort, flow.RemotePort, header);
        payload.CopyTo(tcp[headerLength..]);
        payloadTail.CopyTo(tcp[(headerLength + payload.Length)..]);

        ushort pseudo;
        if (flow.IsIPv6)
        {
            Ipv6Header.Write(destination, source, target, Ipv6Header.NextHeaderTcp, tcpLength, DefaultTtl);
            pseudo = InternetChecksum.PseudoHeaderSumIPv6(source, target, Ipv6Header.NextHeaderTcp, tcpLength);
        }
        else
        {
            Ipv4Header.Write(destination, source, target, Ipv4Header.ProtocolTcp, tcpLength, identification++, DefaultTtl);
            pseudo = InternetChecksum.PseudoHeaderSumIPv4(source, target, Ipv4Header.ProtocolTcp, tcpLength);
        }

        BinaryPrimitives.WriteUInt16BigEndian(tcp[16..], InternetChecksum.TcpChecksum(pseudo, tcp));
        return ipLength + tcpLength;
    }
}
