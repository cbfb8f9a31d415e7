using System.Buffers.Binary;
using KcpKestrel.Transport.UserTcp.Tcp;

namespace KcpKestrel.Transport.UserTcp.Packets;

/// <summary>
/// Reads and writes TCP headers (RFC 9293 §3.1) with the options this stack speaks. Reading is strict: an option
/// whose length is 0 or 1, runs past the header, or is wrong for its kind is a forged header and drops the segment.
/// Writing lays options out as Linux does (tcp_options_write), so captures of both stacks read alike.
/// </summary>
internal static class TcpSegmentCodec
{
    /// <summary>A header without options.</summary>
    public const int MinHeaderLength = 20;

    /// <summary>A header with the most options (data offset 15).</summary>
    public const int MaxHeaderLength = 60;

    /// <summary>The most SACK blocks that fit beside timestamps (3) or alone (4).</summary>
    public const int MaxSackBlocksWithTimestamps = 3;

    private const byte KindEol = 0;
    private const byte KindNop = 1;
    private const byte KindMss = 2;
    private const byte KindWindowScale = 3;
    private const byte KindSackPermitted = 4;
    private const byte KindSack = 5;
    private const byte KindTimestamps = 8;

    private const int MaxWindowScale = 14;

    /// <summary>
    /// Reads a TCP segment (header, options, payload; its checksum is the caller's to verify).
    /// <see cref="PacketDropReason.None"/> when it reads; else <see cref="PacketDropReason.BadTcpHeader"/>,
    /// <see cref="PacketDropReason.BadOptions"/> or <see cref="PacketDropReason.Truncated"/>.
    /// MSS, window scale and SACK-permitted are taken from SYN segments only (RFC 7323 §2.2, RFC 2018 §2).
    /// </summary>
    public static PacketDropReason TryRead(ReadOnlySpan<byte> tcp, out ushort sourcePort, out ushort destinationPort, out TcpHeader header, out ReadOnlySpan<byte> payload)
    {
        sourcePort = destinationPort = 0;
        header = default;
        payload = default;
        if (tcp.Length < MinHeaderLength)
        {
            return PacketDropReason.Truncated;
        }

        int headerLength = (tcp[12] >> 4) * 4;
        if (headerLength < MinHeaderLength || headerLength > tcp.Length)
        {
            return PacketDropReason.BadTcpHeader;
        }

        sourcePort = BinaryPrimitives.ReadUInt16BigEndian(tcp);
        destinationPort = BinaryPrimitives.ReadUInt16BigEndian(tcp[2..]);
        header.Seq = BinaryPrimitives.ReadUInt32BigEndian(tcp[4..]);
        header.Ack = BinaryPrimitives.ReadUInt32BigEndian(tcp[8..]);
        header.Flags = (TcpFlags)tcp[13];
        header.Window = BinaryPrimitives.ReadUInt16BigEndian(tcp[14..]);
        header.Urgent = BinaryPrimitives.ReadUInt16BigEndian(tcp[18..]);
        if (!TryReadOptions(tcp[MinHeaderLength..headerLength], (header.Flags & TcpFlags.Syn) != 0, ref header.Options))
        {
            return PacketDropReason.BadOptions;
        }

        payload = tcp[headerLength..];
        return PacketDropReason.None;
    }

    /// <summary>Parses an options area into <paramref name="options"/>; false when a length is forged.</summary>
    internal static bool TryReadOptions(ReadOnlySpan<byte> area, bool isSyn, ref TcpOptions options)
    {
        int i = 0;
        while (i < area.Length)
        {
            byte kind = area[i];
            if (kind == KindEol)
            {
                break;
            }

            if (kind == KindNop)
            {
                i++;
                continue;
            }

            if (i + 1 >= area.Length)
            {
                return false;
            }

            int length = area[i + 1];
            if (length < 2 || i + length > area.Length)
            {
                return false;
            }

            var value = area.Slice(i + 2, length - 2);
            switch (kind)
            {
                case KindMss:
                    if (length != 4)
                    {
                        return false;
                    }

                    if (isSyn)
                    {
                        options.Mss = BinaryPrimitives.ReadUInt16BigEndian(value);
                    }

                    break;
                case KindWindowScale:
                    if (length != 3)
                    {
                        return false;
                    }

                    if (isSyn)
                    {
                        options.HasWindowScale = true;
                        options.WindowScale = (byte)Math.Min(value[0], (byte)MaxWindowScale);
                    }

                    break;
                case KindSackPermitted:
                    if (length != 2)
                    {
                        return false;
                    }

                    if (isSyn)
                    {
                        options.SackPermitted = true;
                    }

                    break;
                case KindSack:
                    int blocks = (length - 2) / 8;
                    if ((length - 2) % 8 != 0 || blocks < 1 || blocks > 4)
                    {
                        return false;
                    }

                    options.SackCount = (byte)blocks;
                    for (int b = 0; b < blocks; b++)
                    {
                        options.Sack[b] = new SackBlock(BinaryPrimitives.ReadUInt32BigEndian(value[(b * 8)..]), BinaryPrimitives.ReadUInt32BigEndian(value[((b * 8) + 4)..]));
                    }

                    break;
                case KindTimestamps:
                    if (length != 10)
                    {
                        return false;
                    }

                    options.HasTimestamps = true;
                    options.TsVal = BinaryPrimitives.ReadUInt32BigEndian(value);
                    options.TsEcr = BinaryPrimitives.ReadUInt32BigEndian(value[4..]);
                    break;
                default:
                    // Unknown kinds (TFO, MD5, MPTCP...) are skipped by their length.
                    break;
            }

            i += length;
        }

        return true;
    }

    /// <summary>The options' length as <see cref="Write"/> lays them out (a multiple of 4, at most 40).</summary>
    public static int OptionsLength(in TcpOptions options)
    {
        int length = 0;
        if (options.Mss != 0)
        {
            length += 4;
        }

        if (options.HasTimestamps)
        {
            length += 12;
        }
        else if (options.SackPermitted)
        {
            length += 4;
        }

        if (options.HasWindowScale)
        {
            length += 4;
        }

        int sacks = SackBlocksThatFit(options, length);
        if (sacks > 0)
        {
            length += 4 + (8 * sacks);
        }

        return length;
    }

    /// <summary>
    /// Writes a TCP header with its options (checksum zero: the packet layer fills it in); the header's length.
    /// Layout as Linux: MSS; SACK-permitted+TS (or NOP NOP TS, or NOP NOP SACK-permitted); NOP WS; NOP NOP SACK.
    /// SACK blocks that do not fit in the 40 bytes of options are left out.
    /// </summary>
    public static int Write(Span<byte> destination, ushort sourcePort, ushort destinationPort, in TcpHeader header)
    {
        ref readonly var o = ref header.Options;
        int headerLength = MinHeaderLength + OptionsLength(o);
        var h = destination[..headerLength];
        BinaryPrimitives.WriteUInt16BigEndian(h, sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(h[2..], destinationPort);
        BinaryPrimitives.WriteUInt32BigEndian(h[4..], header.Seq);
        BinaryPrimitives.WriteUInt32BigEndian(h[8..], header.Ack);
        h[12] = (byte)((headerLength / 4) << 4);
        h[13] = (byte)header.Flags;
        BinaryPrimitives.WriteUInt16BigEndian(h[14..], header.Window);
        BinaryPrimitives.WriteUInt16BigEndian(h[16..], 0);
        BinaryPrimitives.WriteUInt16BigEndian(h[18..], header.Urgent);

        int i = MinHeaderLength;
        if (o.Mss != 0)
        {
            BinaryPrimitives.WriteUInt32BigEndian(h[i..], (uint)((KindMss << 24) | (4 << 16) | o.Mss));
            i += 4;
        }

        if (o.HasTimestamps)
        {
            uint lead = o.SackPermitted ? (uint)((KindSackPermitted << 24) | (2 << 16)) : (uint)((KindNop << 24) | (KindNop << 16));
            BinaryPrimitives.WriteUInt32BigEndian(h[i..], lead | (uint)(KindTimestamps << 8) | 10);
            BinaryPrimitives.WriteUInt32BigEndian(h[(i + 4)..], o.TsVal);
            BinaryPrimitives.WriteUInt32BigEndian(h[(i + 8)..], o.TsEcr);
            i += 12;
        }
        else if (o.SackPermitted)
        {
            BinaryPrimitives.WriteUInt32BigEndian(h[i..], (uint)((KindNop << 24) | (KindNop << 16) | (KindSackPermitted << 8) | 2));
            i += 4;
        }

        if (o.HasWindowScale)
        {
            BinaryPrimitives.WriteUInt32BigEndian(h[i..], (uint)((KindNop << 24) | (KindWindowScale << 16) | (3 << 8) | Math.Min(o.WindowScale, (byte)MaxWindowScale)));
            i += 4;
        }

        int sacks = SackBlocksThatFit(o, i - MinHeaderLength);
        if (sacks > 0)
        {
            BinaryPrimitives.WriteUInt32BigEndian(h[i..], (uint)((KindNop << 24) | (KindNop << 16) | (KindSack << 8) | (2 + (8 * sacks))));
            i += 4;
            for (int b = 0; b < sacks; b++)
            {
                BinaryPrimitives.WriteUInt32BigEndian(h[i..], o.Sack[b].Start);
                BinaryPrimitives.WriteUInt32BigEndian(h[(i + 4)..], o.Sack[b].End);
                i += 8;
            }
        }

        return headerLength;
    }

    private static int SackBlocksThatFit(in TcpOptions options, int usedBytes)
    {
        int room = (40 - usedBytes - 4) / 8;
        return Math.Clamp(Math.Min((int)options.SackCount, 4), 0, Math.Max(0, room));
    }
}
