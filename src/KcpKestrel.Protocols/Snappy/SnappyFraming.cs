using System.Buffers.Binary;

namespace KcpKestrel.Protocols.Snappy;

/// <summary>
/// Constants and checksum of snappy's framing format (google/snappy framing_format.txt) as
/// golang/snappy writes it, which is what kcptun's CompStream puts on the wire.
/// </summary>
internal static class SnappyFraming
{
    /// <summary>Chunk type byte plus a 24-bit little-endian length.</summary>
    public const int ChunkHeaderSize = 4;

    /// <summary>The masked CRC-32C of the uncompressed data that opens every data chunk.</summary>
    public const int ChecksumSize = 4;

    /// <summary>Header and checksum: the bytes before a data chunk's payload.</summary>
    public const int DataChunkOverhead = ChunkHeaderSize + ChecksumSize;

    /// <summary>Most uncompressed bytes in one data chunk (64 KiB), as the format and Go's writer fix it.</summary>
    public const int MaxBlockSize = 65536;

    /// <summary>
    /// Longest chunk body a reader accepts: Go's reader buffer, checksum plus the worst-case snappy
    /// encoding of 64 KiB (76490). Longer chunks are refused before their body is buffered.
    /// </summary>
    public const int MaxChunkLength = ChecksumSize + 76490;

    public const byte CompressedData = 0x00;
    public const byte UncompressedData = 0x01;
    public const byte FirstSkippable = 0x80;
    public const byte Padding = 0xfe;
    public const byte StreamIdentifier = 0xff;

    /// <summary>The stream identifier chunk: type 0xff, length 6, "sNaPpY".</summary>
    public static ReadOnlySpan<byte> StreamIdentifierChunk => [0xff, 0x06, 0x00, 0x00, (byte)'s', (byte)'N', (byte)'a', (byte)'P', (byte)'p', (byte)'Y'];

    /// <summary>The body of the stream identifier chunk.</summary>
    public static ReadOnlySpan<byte> StreamIdentifierBody => StreamIdentifierChunk[ChunkHeaderSize..];

    /// <summary>Writes a data chunk's header and checksum into the first 8 bytes of <paramref name="destination"/>.</summary>
    public static void WriteDataChunkHeader(Span<byte> destination, byte chunkType, int payloadLength, uint maskedChecksum)
    {
        var length = ChecksumSize + payloadLength;
        destination[0] = chunkType;
        destination[1] = (byte)length;
        destination[2] = (byte)(length >> 8);
        destination[3] = (byte)(length >> 16);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[ChunkHeaderSize..], maskedChecksum);
    }

    /// <summary>
    /// CRC-32C (Castagnoli) of <paramref name="data"/>, masked as the format asks (rotated right by 15,
    /// plus 0xa282ead8) so a checksum of data holding checksums stays well distributed.
    /// </summary>
    public static uint MaskedCrc32C(ReadOnlySpan<byte> data)
    {
        var crc = Crc32C.Compute(data);
        return ((crc >> 15) | (crc << 17)) + 0xa282ead8;
    }
}
