using System.Buffers.Binary;

namespace KcpKestrel.Core.Arq;

/// <summary>
/// The 24-byte KCP segment header, little-endian as kcp-go writes it:
/// <c>conv u32 | cmd u8 | frg u8 | wnd u16 | ts u32 | sn u32 | una u32 | len u32</c>.
/// </summary>
internal readonly record struct SegmentHeader(
    uint Conv, KcpCommand Cmd, byte Frg, ushort Wnd, uint Ts, uint Sn, uint Una, uint Len)
{
    /// <summary>Size of the header on the wire (IKCP_OVERHEAD).</summary>
    public const int Size = 24;

    /// <summary>Reads a header; false when fewer than <see cref="Size"/> bytes remain.</summary>
    /// <remarks>Does not validate <c>cmd</c> or <c>len</c>: the control block decides what is acceptable.</remarks>
    public static bool TryRead(ReadOnlySpan<byte> source, out SegmentHeader header)
    {
        if (source.Length < Size)
        {
            header = default;
            return false;
        }

        header = new SegmentHeader(
            BinaryPrimitives.ReadUInt32LittleEndian(source),
            (KcpCommand)source[4],
            source[5],
            BinaryPrimitives.ReadUInt16LittleEndian(source[6..]),
            BinaryPrimitives.ReadUInt32LittleEndian(source[8..]),
            BinaryPrimitives.ReadUInt32LittleEndian(source[12..]),
            BinaryPrimitives.ReadUInt32LittleEndian(source[16..]),
            BinaryPrimitives.ReadUInt32LittleEndian(source[20..]));
        return true;
    }

    /// <summary>Writes the header into the first <see cref="Size"/> bytes of <paramref name="destination"/>.</summary>
    public void Write(Span<byte> destination)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, Size, nameof(destination));
        BinaryPrimitives.WriteUInt32LittleEndian(destination, Conv);
        destination[4] = (byte)Cmd;
        destination[5] = Frg;
        BinaryPrimitives.WriteUInt16LittleEndian(destination[6..], Wnd);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[8..], Ts);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[12..], Sn);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[16..], Una);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[20..], Len);
    }
}
