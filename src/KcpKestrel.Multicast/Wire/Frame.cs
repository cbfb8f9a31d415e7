namespace KcpKestrel.Multicast.Wire;

/// <summary>One message frame of a Data packet, as <see cref="FrameReader"/> read it.</summary>
internal readonly ref struct Frame(byte topic, FrameFlags flags, uint totalLength, ReadOnlySpan<byte> payload)
{
    /// <summary>Bytes before a whole frame's payload: length (ushort), topic, flags.</summary>
    public const int WholeHeaderSize = 4;

    /// <summary>Bytes before a fragment's payload: the whole header plus the message's total length (uint).</summary>
    public const int FragmentHeaderSize = 8;

    public byte Topic { get; } = topic;

    public FrameFlags Flags { get; } = flags;

    /// <summary>The whole message's length: the payload's for a whole frame.</summary>
    public uint TotalLength { get; } = totalLength;

    public ReadOnlySpan<byte> Payload { get; } = payload;
}
