using System.Buffers.Binary;
using KcpKestrel.Core.Arq;

namespace KcpKestrel.Transport.Kcp.Sessions;

/// <summary>
/// The retry/token exchange of our own AEAD modes (see docs/address-validation.md). Two control datagrams,
/// both inside the AEAD seal, never behind an FEC header and never handed to FEC:
/// <list type="bullet">
/// <item>TOKEN (client → server): <c>[segment header: conv, cmd 90, len 20][token, 20 bytes; zeros: none yet][WASK segment]</c>.
/// The client's dial probe; without a token it is the padding that makes room for the answer.</item>
/// <item>RETRY (server → client): <c>[segment header: conv, cmd 89, len 20][token]</c>, 44 bytes (72 sealed),
/// never larger than the datagram it answers.</item>
/// </list>
/// Byte 4 of an opened datagram is a KCP cmd (81–84, 88) or, with FEC, the low byte of the FEC type
/// (0xf1, 0xf2), so 89 and 90 there are unambiguous. kcp-go never sees them: only aes-256-gcm and
/// chacha20-poly1305, which only our peers speak, use them.
/// </summary>
internal static class AddressValidation
{
    /// <summary>cmd of the server's RETRY.</summary>
    public const byte RetryCommand = 89;

    /// <summary>cmd of the client's TOKEN datagram (its dial probe).</summary>
    public const byte TokenCommand = 90;

    /// <summary>Bytes of a RETRY before sealing: segment header and token.</summary>
    public const int RetrySize = SegmentHeader.Size + AddressTokens.Size;

    /// <summary>Bytes of a TOKEN datagram before sealing: segment header, token and the WASK segment.</summary>
    public const int TokenProbeSize = RetrySize + SegmentHeader.Size;

    /// <summary>Whether validation applies: it is on and the mode is one of ours (a replay-protected AEAD).</summary>
    public static bool AppliesTo(KcpOptions options, Core.Crypto.PacketCipher cipher) =>
        options.AddressValidation && cipher.SupportsReplayWindow;

    /// <summary>
    /// Reads a RETRY or TOKEN datagram (already opened): its conv, cmd, the token and what follows it.
    /// False for anything else (a regular KCP or FEC datagram).
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> payload, out uint conv, out byte cmd, out ReadOnlySpan<byte> token, out ReadOnlySpan<byte> rest)
    {
        conv = 0;
        cmd = 0;
        token = default;
        rest = default;
        if (payload.Length < RetrySize
            || payload[4] is not (RetryCommand or TokenCommand)
            || BinaryPrimitives.ReadUInt32LittleEndian(payload[20..]) != AddressTokens.Size)
        {
            return false;
        }

        conv = BinaryPrimitives.ReadUInt32LittleEndian(payload);
        cmd = payload[4];
        token = payload.Slice(SegmentHeader.Size, AddressTokens.Size);
        rest = payload[RetrySize..];
        return true;
    }

    /// <summary>Writes the control segment header and <paramref name="token"/> (empty: zeros) into <paramref name="destination"/>.</summary>
    public static void WriteHeader(Span<byte> destination, uint conv, byte cmd, ushort window, uint ts, ReadOnlySpan<byte> token)
    {
        new SegmentHeader(conv, (KcpCommand)cmd, 0, window, ts, 0, 0, AddressTokens.Size).Write(destination);
        var field = destination.Slice(SegmentHeader.Size, AddressTokens.Size);
        if (token.IsEmpty)
        {
            field.Clear();
        }
        else
        {
            token.CopyTo(field);
        }
    }

    /// <summary>Writes a client's TOKEN probe: the TOKEN header with <paramref name="token"/> (empty: zeros, the padding that makes room for a RETRY), then a WASK.</summary>
    public static void WriteTokenProbe(Span<byte> destination, uint conv, ushort window, uint ts, ReadOnlySpan<byte> token)
    {
        WriteHeader(destination, conv, TokenCommand, window, ts, token);
        new SegmentHeader(conv, KcpCommand.WindowAsk, 0, window, ts, 0, 0, 0).Write(destination[RetrySize..]);
    }

    /// <summary>True when a TOKEN datagram's token is all zeros: the client has none yet.</summary>
    public static bool IsEmptyToken(ReadOnlySpan<byte> token) => !token.ContainsAnyExcept((byte)0);
}
