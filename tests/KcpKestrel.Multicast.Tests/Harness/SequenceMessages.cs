using System.Buffers.Binary;

namespace KcpKestrel.Multicast.Tests.Harness;

/// <summary>
/// Test messages whose content follows from their index: the first 4 bytes hold it, the rest is
/// derived from it, so a receiver can check order, duplicates and content without a copy.
/// </summary>
internal static class SequenceMessages
{
    public static int Write(Span<byte> destination, int index, int length)
    {
        BinaryPrimitives.WriteInt32LittleEndian(destination, index);
        for (var i = 4; i < length; i++)
        {
            destination[i] = (byte)(index + i);
        }

        return length;
    }

    /// <summary>The index a message carries, or -1 when its content does not match it.</summary>
    public static int Check(ReadOnlySpan<byte> message)
    {
        if (message.Length < 4)
        {
            return -1;
        }

        var index = BinaryPrimitives.ReadInt32LittleEndian(message);
        for (var i = 4; i < message.Length; i++)
        {
            if (message[i] != (byte)(index + i))
            {
                return -1;
            }
        }

        return index;
    }
}
