using System.Buffers.Binary;

namespace KcpKestrel.Multicast.Wire;

/// <summary>Writes message frames (the inverse of <see cref="FrameReader"/>).</summary>
internal static class FrameWriter
{
    /// <summary>Writes a whole message at <paramref name="destination"/>'s start; returns the bytes written.</summary>
    public static int WriteWhole(Span<byte> destination, byte topic, ReadOnlySpan<byte> message)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(destination, (ushort)message.Length);
        destination[2] = topic;
        destination[3] = (byte)FrameFlags.Whole;
        message.CopyTo(destination[Frame.WholeHeaderSize..]);
        return Frame.WholeHeaderSize + message.Length;
    }

    /// <summary>Writes one fragment of a message of <paramref name="totalLength"/> bytes; returns the bytes written.</summary>
    public static int WriteFragment(
        Span<byte> destination, byte topic, FrameFlags flags, int totalLength, ReadOnlySpan<byte> chunk)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(destination, (ushort)chunk.Length);
        destination[2] = topic;
        destination[3] = (byte)flags;
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], (uint)totalLength);
        chunk.CopyTo(destination[Frame.FragmentHeaderSize..]);
        return Frame.FragmentHeaderSize + chunk.Length;
    }
}
