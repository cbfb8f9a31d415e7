using System.Buffers.Binary;

namespace KcpKestrel.Transport.Kcp.Io.Datagrams;

/// <summary>
/// Reads received ancillary data (struct cmsghdr on 64-bit Linux: size_t len, int level, int type,
/// data aligned to 8), kept pure so it can be tested on bytes alone.
/// </summary>
internal static class ControlMessages
{
    private const int HeaderSize = 16;

    /// <summary>CMSG_SPACE(4): room for one cmsg carrying an int or u32.</summary>
    public const int IntSpace = HeaderSize + 8;

    /// <summary>The data of the first cmsg of <paramref name="level"/>/<paramref name="type"/> in <paramref name="control"/>; empty when there is none.</summary>
    public static ReadOnlySpan<byte> Find(ReadOnlySpan<byte> control, int level, int type)
    {
        var offset = 0;
        while (offset + HeaderSize <= control.Length)
        {
            var cmsgLength = BinaryPrimitives.ReadUInt64LittleEndian(control[offset..]);
            if (cmsgLength < HeaderSize || cmsgLength > (ulong)(control.Length - offset))
            {
                return default;
            }

            if (BinaryPrimitives.ReadInt32LittleEndian(control[(offset + 8)..]) == level
                && BinaryPrimitives.ReadInt32LittleEndian(control[(offset + 12)..]) == type)
            {
                return control.Slice(offset + HeaderSize, (int)cmsgLength - HeaderSize);
            }

            offset += (int)((cmsgLength + 7) & ~7UL);
        }

        return default;
    }
}
