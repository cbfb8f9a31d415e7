using KcpKestrel.Transport.Kcp.Diagnostics;

namespace KcpKestrel.Transport.Kcp.Io.Datagrams;

/// <summary>
/// Hands one received buffer to a channel's receiver, split into its datagrams when GRO coalesced
/// several, with the counting both native channels (epoll and io_uring) share.
/// </summary>
internal static class DatagramDelivery
{
    /// <summary>A buffer the kernel cut short (MSG_TRUNC or longer than the room it had): dropped whole, counted.</summary>
    public static void DropTruncated(KcpTransportCounters counters, int length)
    {
        counters.DatagramsReceived++;
        counters.BytesReceived += length;
        counters.DroppedOversize++;
    }

    /// <summary>
    /// Delivers <paramref name="buffer"/> (every <paramref name="segmentSize"/> bytes a datagram; 0: one datagram).
    /// Returns false when the channel was disposed meanwhile, so the caller stops.
    /// </summary>
    public static bool Deliver(IDatagramChannel channel, KcpTransportCounters counters, Span<byte> buffer, int segmentSize, ReadOnlySpan<byte> address, int datagramLimit, uint now)
    {
        var length = buffer.Length;
        var segments = UdpSegmentation.SegmentCount(length, segmentSize);
        if (segments > 1)
        {
            counters.GroReceives++;
            counters.GroSegmentsReceived += segments;
        }

        for (var s = 0; s < segments; s++)
        {
            var datagram = buffer[UdpSegmentation.Segment(length, segmentSize, s)];
            counters.DatagramsReceived++;
            counters.BytesReceived += datagram.Length;
            if (datagram.Length > datagramLimit)
            {
                counters.DroppedOversize++;
                continue;
            }

            channel.Receiver.OnDatagram(channel, datagram, address, now);
            if (channel.IsDisposed)
            {
                return false;
            }
        }

        return true;
    }
}
