using System.Buffers.Binary;
using KcpKestrel.Core.Arq;

namespace KcpKestrel.Transport.Kcp.Sessions;

/// <summary>
/// The path check of a migrating session in our AEAD modes (see docs/address-validation.md, "Migration"). Two
/// control datagrams, sealed like every other, never behind an FEC header:
/// <list type="bullet">
/// <item>CHALLENGE (server → the new address): <c>[segment header: conv, cmd 91, len 16][16 random bytes]</c>.</item>
/// <item>RESPONSE (client → server): <c>[segment header: conv, cmd 92, len 16][the challenge's 16 bytes]</c>.</item>
/// </list>
/// 40 bytes each before sealing (68 sealed). Only a key holder that receives what we send to the new address can
/// answer, so a RESPONSE arriving from that address proves it. kcp-go never sees them: only aes-256-gcm and
/// chacha20-poly1305, which only our peers speak, use them.
/// </summary>
internal static class PathValidation
{
    /// <summary>cmd of the server's CHALLENGE.</summary>
    public const byte ChallengeCommand = 91;

    /// <summary>cmd of the client's RESPONSE.</summary>
    public const byte ResponseCommand = 92;

    /// <summary>Random bytes a CHALLENGE carries.</summary>
    public const int DataSize = 16;

    /// <summary>Bytes of either datagram before sealing.</summary>
    public const int Size = SegmentHeader.Size + DataSize;

    /// <summary>Reads a CHALLENGE or RESPONSE (already opened); false for anything else.</summary>
    public static bool TryRead(ReadOnlySpan<byte> payload, out uint conv, out byte cmd, out ReadOnlySpan<byte> data)
    {
        conv = 0;
        cmd = 0;
        data = default;
        if (payload.Length != Size
            || payload[4] is not (ChallengeCommand or ResponseCommand)
            || BinaryPrimitives.ReadUInt32LittleEndian(payload[20..]) != DataSize)
        {
            return false;
        }

        conv = BinaryPrimitives.ReadUInt32LittleEndian(payload);
        cmd = payload[4];
        data = payload.Slice(SegmentHeader.Size, DataSize);
        return true;
    }

    /// <summary>Writes a CHALLENGE or RESPONSE carrying <paramref name="data"/> into <paramref name="destination"/>.</summary>
    public static void Write(Span<byte> destination, uint conv, byte cmd, ReadOnlySpan<byte> data)
    {
        new SegmentHeader(conv, (KcpCommand)cmd, 0, 0, 0, 0, 0, DataSize).Write(destination);
        data[..DataSize].CopyTo(destination[SegmentHeader.Size..]);
    }

    /// <summary>
    /// Our client's side: a CHALLENGE for <paramref name="session"/> is answered at once with its bytes (from
    /// wherever the client's datagrams now leave). True when <paramref name="payload"/> was a path-check datagram.
    /// </summary>
    public static bool TryAnswer(KcpSession session, ReadOnlySpan<byte> payload)
    {
        if (!TryRead(payload, out var conv, out var cmd, out var data))
        {
            return false;
        }

        if (cmd == ChallengeCommand && conv == session.Conv && !session.IsEnded)
        {
            Span<byte> response = stackalloc byte[Size];
            Write(response, conv, ResponseCommand, data);
            session.SendUnframed(response);
        }

        return true;
    }
}
