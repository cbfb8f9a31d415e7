using System.Buffers;
using System.Buffers.Binary;

namespace KcpKestrel.Protocols;

/// <summary>
/// Messages framed by a 4-byte big-endian length: a pure reader and writer with no I/O, for
/// <c>ConnectionHandler</c>s over KCP or TCP. Read from a <c>PipeReader</c>'s buffer, advance to
/// where <see cref="TryRead"/> left it; write into the <c>PipeWriter</c> and flush.
/// </summary>
public static class LengthPrefixedProtocol
{
    /// <summary>Bytes of the length prefix.</summary>
    public const int HeaderSize = 4;

    /// <summary>The largest message <see cref="TryRead"/> accepts unless told otherwise (1 MiB).</summary>
    public const int DefaultMaxMessageSize = 1024 * 1024;

    /// <summary>
    /// Takes one whole message off the front of <paramref name="buffer"/>. Returns false (and leaves
    /// <paramref name="buffer"/> as it was) while the message is incomplete.
    /// </summary>
    /// <param name="buffer">Received bytes; on success, what follows the message.</param>
    /// <param name="message">The message's payload, a slice of the input.</param>
    /// <param name="maxMessageSize">Largest accepted payload; checked as soon as the prefix arrives.</param>
    /// <returns>Whether a whole message was read.</returns>
    /// <exception cref="InvalidDataException">The prefix announces more than <paramref name="maxMessageSize"/> bytes.</exception>
    public static bool TryRead(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> message, int maxMessageSize = DefaultMaxMessageSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxMessageSize);
        message = default;
        if (buffer.Length < HeaderSize)
        {
            return false;
        }

        Span<byte> header = stackalloc byte[HeaderSize];
        buffer.Slice(0, HeaderSize).CopyTo(header);
        var length = BinaryPrimitives.ReadUInt32BigEndian(header);
        if (length > (uint)maxMessageSize)
        {
            throw new InvalidDataException($"A message of {length} bytes exceeds the limit of {maxMessageSize} bytes.");
        }

        if (buffer.Length - HeaderSize < length)
        {
            return false;
        }

        message = buffer.Slice(HeaderSize, length);
        buffer = buffer.Slice(message.End);
        return true;
    }

    /// <summary>Writes <paramref name="message"/> with its length prefix.</summary>
    /// <param name="writer">Destination, for example a <c>PipeWriter</c>.</param>
    /// <param name="message">The payload.</param>
    public static void Write(IBufferWriter<byte> writer, ReadOnlySpan<byte> message)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var span = writer.GetSpan(HeaderSize);
        BinaryPrimitives.WriteUInt32BigEndian(span, (uint)message.Length);
        writer.Advance(HeaderSize);
        writer.Write(message);
    }

    /// <summary>Writes <paramref name="message"/> with its length prefix.</summary>
    /// <param name="writer">Destination, for example a <c>PipeWriter</c>.</param>
    /// <param name="message">The payload, possibly in several segments.</param>
    public static void Write(IBufferWriter<byte> writer, in ReadOnlySequence<byte> message)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (message.Length > uint.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(message), message.Length, "A message holds at most 4 GiB - 1 bytes.");
        }

        var span = writer.GetSpan(HeaderSize);
        BinaryPrimitives.WriteUInt32BigEndian(span, (uint)message.Length);
        writer.Advance(HeaderSize);
        foreach (var segment in message)
        {
            writer.Write(segment.Span);
        }
    }
}
