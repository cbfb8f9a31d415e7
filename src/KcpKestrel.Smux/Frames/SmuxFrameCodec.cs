using System.Buffers;
using System.Buffers.Binary;

namespace KcpKestrel.Smux.Frames;

/// <summary>Reads and writes smux frames (smux frame.go layout, little-endian).</summary>
internal static class SmuxFrameCodec
{
    /// <summary>ver + cmd + length + sid.</summary>
    public const int HeaderSize = 8;

    /// <summary>The UPD payload: consumed + window.</summary>
    public const int UpdateSize = 8;

    /// <summary>
    /// Parses a header from the start of <paramref name="source"/> for a session of <paramref name="version"/>.
    /// PSH lengths are not checked against MaxFrameSize: smux's receiver accepts any u16 length (it only bounds
    /// what it sends), so rejecting a larger one would break a peer configured with a larger frame size.
    /// </summary>
    public static SmuxParseStatus TryParseHeader(ReadOnlySpan<byte> source, byte version, out SmuxFrameHeader header)
    {
        header = default;
        if (source.Length < HeaderSize)
        {
            return SmuxParseStatus.NeedMore;
        }

        header = new SmuxFrameHeader(
            source[0],
            (SmuxCommand)source[1],
            BinaryPrimitives.ReadUInt16LittleEndian(source[2..]),
            BinaryPrimitives.ReadUInt32LittleEndian(source[4..]));
        if (header.Version != version)
        {
            return SmuxParseStatus.WrongVersion;
        }

        switch (header.Command)
        {
            case SmuxCommand.Psh:
                return SmuxParseStatus.Ok;
            case SmuxCommand.Syn or SmuxCommand.Fin or SmuxCommand.Nop:
                return header.Length == 0 ? SmuxParseStatus.Ok : SmuxParseStatus.UnexpectedPayload;
            case SmuxCommand.Upd when version >= 2:
                return header.Length == UpdateSize ? SmuxParseStatus.Ok : SmuxParseStatus.BadUpdateLength;
            default:
                return SmuxParseStatus.UnknownCommand;
        }
    }

    /// <summary>Parses a header from a sequence (copies the 8 bytes only when they straddle segments).</summary>
    public static SmuxParseStatus TryParseHeader(in ReadOnlySequence<byte> source, byte version, out SmuxFrameHeader header)
    {
        if (source.FirstSpan.Length >= HeaderSize)
        {
            return TryParseHeader(source.FirstSpan, version, out header);
        }

        Span<byte> copy = stackalloc byte[HeaderSize];
        if (source.Length < HeaderSize)
        {
            header = default;
            return SmuxParseStatus.NeedMore;
        }

        source.Slice(0, HeaderSize).CopyTo(copy);
        return TryParseHeader(copy, version, out header);
    }

    /// <summary>Writes a header.</summary>
    public static void WriteHeader(Span<byte> destination, byte version, SmuxCommand command, int length, uint streamId)
    {
        destination[0] = version;
        destination[1] = (byte)command;
        BinaryPrimitives.WriteUInt16LittleEndian(destination[2..], checked((ushort)length));
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], streamId);
    }

    /// <summary>Writes a payload-less frame (SYN, FIN, NOP) to <paramref name="writer"/>.</summary>
    public static void WriteControl(IBufferWriter<byte> writer, byte version, SmuxCommand command, uint streamId)
    {
        WriteHeader(writer.GetSpan(HeaderSize), version, command, 0, streamId);
        writer.Advance(HeaderSize);
    }

    /// <summary>Writes a v2 UPD frame: what this side consumed of the stream and the window it offers.</summary>
    public static void WriteUpdate(IBufferWriter<byte> writer, byte version, uint streamId, uint consumed, uint window)
    {
        var span = writer.GetSpan(HeaderSize + UpdateSize);
        WriteHeader(span, version, SmuxCommand.Upd, UpdateSize, streamId);
        BinaryPrimitives.WriteUInt32LittleEndian(span[HeaderSize..], consumed);
        BinaryPrimitives.WriteUInt32LittleEndian(span[(HeaderSize + 4)..], window);
        writer.Advance(HeaderSize + UpdateSize);
    }

    /// <summary>Writes a PSH frame carrying <paramref name="payload"/> (at most 65535 bytes).</summary>
    public static void WriteData(IBufferWriter<byte> writer, byte version, uint streamId, in ReadOnlySequence<byte> payload)
    {
        WriteHeader(writer.GetSpan(HeaderSize), version, SmuxCommand.Psh, (int)payload.Length, streamId);
        writer.Advance(HeaderSize);
        foreach (var segment in payload)
        {
            writer.Write(segment.Span);
        }
    }
}
