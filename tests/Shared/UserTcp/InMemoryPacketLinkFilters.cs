using System.Buffers.Binary;
using KcpKestrel.Transport.UserTcp.Tcp;

namespace KcpKestrel.Tests.Shared.UserTcp;

/// <summary>
/// Looks into the IP packets crossing an <see cref="InMemoryPacketLink"/> for drop filters:
/// <c>link.A.DropFilter = p => InMemoryPacketLinkFilters.TcpFlagsOf(p) == (TcpFlags.Syn | TcpFlags.Ack)</c>.
/// No checks beyond what reading needs: the packets are the stack's own.
/// </summary>
internal static class InMemoryPacketLinkFilters
{
    /// <summary>The TCP flags of an IP packet, or null when it is not a whole TCP segment.</summary>
    public static TcpFlags? TcpFlagsOf(ReadOnlySpan<byte> packet) =>
        TcpOffset(packet, out int offset, out _) ? (TcpFlags)packet[offset + 13] : null;

    /// <summary>SEG.SEQ of an IP packet, or null when it is not a whole TCP segment.</summary>
    public static uint? TcpSeqOf(ReadOnlySpan<byte> packet) =>
        TcpOffset(packet, out int offset, out _) ? BinaryPrimitives.ReadUInt32BigEndian(packet[(offset + 4)..]) : null;

    /// <summary>The TCP payload length of an IP packet, or -1 when it is not a whole TCP segment.</summary>
    public static int TcpPayloadLengthOf(ReadOnlySpan<byte> packet)
    {
        if (!TcpOffset(packet, out int offset, out int total))
        {
            return -1;
        }

        int headerLength = (packet[offset + 12] >> 4) * 4;
        return total - offset - headerLength >= 0 ? total - offset - headerLength : -1;
    }

    private static bool TcpOffset(ReadOnlySpan<byte> packet, out int offset, out int total)
    {
        if (packet.Length >= 20 && packet[0] >> 4 == 4 && packet[9] == 6)
        {
            offset = (packet[0] & 0x0F) * 4;
            total = Math.Min(packet.Length, BinaryPrimitives.ReadUInt16BigEndian(packet[2..]));
        }
        else if (packet.Length >= 40 && packet[0] >> 4 == 6 && packet[6] == 6)
        {
            offset = 40;
            total = Math.Min(packet.Length, 40 + BinaryPrimitives.ReadUInt16BigEndian(packet[4..]));
        }
        else
        {
            offset = total = 0;
            return false;
        }

        return total >= offset + 20;
    }
}
