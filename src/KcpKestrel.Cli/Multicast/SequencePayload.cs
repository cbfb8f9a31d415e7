using System.Buffers.Binary;

namespace KcpKestrel.Cli.Multicast;

/// <summary>
/// The pub/sub test payload: the first 8 bytes hold the message's index, the rest follows from it, so
/// the subscriber checks order and content without the publisher's data.
/// </summary>
internal static class SequencePayload
{
    public const int MinSize = 8;

    public static void Write(Span<byte> destination, long index)
    {
        BinaryPrimitives.WriteInt64LittleEndian(destination, index);
        for (var i = MinSize; i < destination.Length; i++)
        {
            destination[i] = (byte)((index * 31) + i);
        }
    }

    /// <summary>The index <paramref name="message"/> carries, or -1 when its content does not follow from it.</summary>
    public static long Check(ReadOnlySpan<byte> message)
    {
        if (message.Length < MinSize)
        {
            return -1;
        }

        var index = BinaryPrimitives.ReadInt64LittleEndian(message);
        for (var i = MinSize; i < message.Length; i++)
        {
            if (message[i] != (byte)((index * 31) + i))
            {
                return -1;
            }
        }

        return index;
    }
}
