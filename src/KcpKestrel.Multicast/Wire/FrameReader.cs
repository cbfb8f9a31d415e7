using System.Buffers.Binary;

namespace KcpKestrel.Multicast.Wire;

/// <summary>
/// Walks the frames of a Data packet's body. Every length is checked against the bytes left, so a
/// forged length ends the walk with a status; nothing is allocated.
/// </summary>
internal ref struct FrameReader(ReadOnlySpan<byte> body)
{
    private ReadOnlySpan<byte> _rest = body;

    /// <summary>Checks every frame of <paramref name="body"/>; a Data packet holds at least one.</summary>
    public static ParseStatus Validate(ReadOnlySpan<byte> body)
    {
        if (body.IsEmpty)
        {
            return ParseStatus.BadFrame;
        }

        var reader = new FrameReader(body);
        while (true)
        {
            var status = reader.TryNext(out _, out var end);
            if (end || status != ParseStatus.Ok)
            {
                return status;
            }
        }
    }

    /// <summary>
    /// Reads the next frame. <paramref name="end"/> says the body is used up (status Ok, no frame).
    /// </summary>
    public ParseStatus TryNext(out Frame frame, out bool end)
    {
        frame = default;
        end = _rest.IsEmpty;
        if (end)
        {
            return ParseStatus.Ok;
        }

        if (_rest.Length < Frame.WholeHeaderSize)
        {
            return ParseStatus.BadFrame;
        }

        int length = BinaryPrimitives.ReadUInt16LittleEndian(_rest);
        var topic = _rest[2];
        var flags = (FrameFlags)_rest[3];
        if ((flags & ~FrameFlags.Whole) != 0)
        {
            return ParseStatus.BadFrame;
        }

        var headerSize = flags == FrameFlags.Whole ? Frame.WholeHeaderSize : Frame.FragmentHeaderSize;
        if (_rest.Length < headerSize || _rest.Length - headerSize < length)
        {
            return ParseStatus.BadFrame;
        }

        var total = (uint)length;
        if (flags != FrameFlags.Whole)
        {
            total = BinaryPrimitives.ReadUInt32LittleEndian(_rest[4..]);
            if (total < (uint)length)
            {
                return ParseStatus.BadFragment;
            }
        }

        frame = new Frame(topic, flags, total, _rest.Slice(headerSize, length));
        _rest = _rest[(headerSize + length)..];
        return ParseStatus.Ok;
    }
}
