using System.Buffers.Binary;
using KcpKestrel.Transport.Kcp.Io.Native;

namespace KcpKestrel.Transport.Kcp.Io.Datagrams;

/// <summary>
/// The pure rules of UDP GSO and GRO, kept apart from the sockets so they can be tested alone:
/// which queued datagrams may share one UDP_SEGMENT send, and how a GRO-coalesced buffer splits
/// back into the datagrams it was made of.
/// </summary>
internal static class UdpSegmentation
{
    /// <summary>
    /// Segments per GSO send. Linux's UDP_MAX_SEGMENTS was 64 until 6.13 raised it to 128; the lower
    /// value is accepted by every kernel that has GSO at all.
    /// </summary>
    public const int MaxSegments = 64;

    /// <summary>
    /// Payload bytes per GSO send: the largest IPv4 UDP payload (65535 - 20 - 8). IPv6 allows a little
    /// more, and a dual-stack socket may send either, so the smaller holds for both.
    /// </summary>
    public const int MaxPayload = 65507;

    /// <summary>
    /// How many datagrams from <paramref name="start"/> one GSO message can carry: same destination as
    /// the one before, the first's length <c>L</c> for all but the last, the last at most <c>L</c>,
    /// within the kernel's segment and payload limits. 1 means "send it plainly".
    /// </summary>
    /// <param name="lengths">Length of each queued datagram.</param>
    /// <param name="sameDestinationAsPrevious">Per datagram: true when it goes where the one before it goes.</param>
    /// <param name="start">First datagram of the run.</param>
    /// <param name="maxSegments">Most datagrams per message.</param>
    /// <param name="maxPayload">Most bytes per message.</param>
    public static int RunLength(ReadOnlySpan<int> lengths, ReadOnlySpan<bool> sameDestinationAsPrevious, int start, int maxSegments = MaxSegments, int maxPayload = MaxPayload)
    {
        var segmentSize = lengths[start];
        if (segmentSize <= 0 || segmentSize > ushort.MaxValue)
        {
            return 1;
        }

        var total = segmentSize;
        var end = start + 1;
        while (end < lengths.Length && end - start < maxSegments && sameDestinationAsPrevious[end])
        {
            var length = lengths[end];
            if (length <= 0 || length > segmentSize || total + length > maxPayload)
            {
                break;
            }

            total += length;
            end++;

            // The kernel cuts every segmentSize bytes: a shorter datagram can only be the last.
            if (length < segmentSize)
            {
                break;
            }
        }

        return end - start;
    }

    /// <summary>How many datagrams a received buffer of <paramref name="length"/> bytes holds, given the GRO segment size (0: no cmsg, one datagram).</summary>
    public static int SegmentCount(int length, int segmentSize)
    {
        if (segmentSize <= 0 || length <= segmentSize)
        {
            return 1;
        }

        return (length + segmentSize - 1) / segmentSize;
    }

    /// <summary>Datagram <paramref name="index"/> of a coalesced buffer: every <paramref name="segmentSize"/> bytes, the last maybe shorter.</summary>
    public static Range Segment(int length, int segmentSize, int index)
    {
        if (segmentSize <= 0 || length <= segmentSize)
        {
            return 0..length;
        }

        var offset = index * segmentSize;
        return offset..Math.Min(length, offset + segmentSize);
    }

    /// <summary>The segment size of the UDP_GRO cmsg in a received control buffer; 0 when absent.</summary>
    public static int ReadGroSegmentSize(ReadOnlySpan<byte> control)
    {
        var data = ControlMessages.Find(control, LinuxNative.SOL_UDP, LinuxNative.UDP_GRO);
        return data.Length >= sizeof(int) ? BinaryPrimitives.ReadInt32LittleEndian(data) : 0;
    }

    /// <summary>Writes a UDP_SEGMENT cmsg header (CMSG_LEN(2) = 18) for <paramref name="segmentSize"/>; the buffer holds CMSG_SPACE(2) = 24 bytes.</summary>
    public static void WriteSegmentCmsg(Span<byte> control, ushort segmentSize)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(control, 18);
        BinaryPrimitives.WriteInt32LittleEndian(control[8..], LinuxNative.SOL_UDP);
        BinaryPrimitives.WriteInt32LittleEndian(control[12..], LinuxNative.UDP_SEGMENT);
        BinaryPrimitives.WriteUInt16LittleEndian(control[16..], segmentSize);
    }

    public const int SegmentCmsgSpace = 24;
}
