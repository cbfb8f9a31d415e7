using System.Buffers;
using System.Buffers.Binary;

namespace KcpKestrel.Protocols.Snappy;

/// <summary>
/// Reads snappy framing one chunk at a time into an <see cref="IBufferWriter{T}"/>, with golang/snappy
/// reader's limits: the stream must open with the stream identifier, a chunk body is at most
/// <see cref="SnappyFraming.MaxChunkLength"/> bytes (checked from the header, before the body is
/// waited for, so a hostile length cannot make anyone buffer more), a data chunk holds at most 64 KiB,
/// and every checksum must match. Skippable chunks (0x80-0xfe, padding included) are dropped.
/// Pure: no I/O; violations throw <see cref="InvalidDataException"/>.
/// </summary>
internal sealed class SnappyFrameDecoder : IDisposable
{
    // Gathers a compressed body that spans segments; Snappier decompresses spans only.
    private byte[]? _gather;
    private bool _sawStreamIdentifier;

    /// <summary>
    /// Takes one whole chunk off the front of <paramref name="input"/> and writes its data to
    /// <paramref name="output"/>. Returns false, leaving <paramref name="input"/> as it was, while the
    /// chunk is incomplete.
    /// </summary>
    /// <exception cref="InvalidDataException">The chunk breaks the format; the stream cannot go on.</exception>
    public bool TryDecode(ref ReadOnlySequence<byte> input, IBufferWriter<byte> output)
    {
        if (input.Length < SnappyFraming.ChunkHeaderSize)
        {
            return false;
        }

        Span<byte> header = stackalloc byte[SnappyFraming.ChunkHeaderSize];
        input.Slice(0, SnappyFraming.ChunkHeaderSize).CopyTo(header);
        var chunkType = header[0];
        var length = header[1] | (header[2] << 8) | (header[3] << 16);
        CheckHeader(chunkType, length);
        if (input.Length < SnappyFraming.ChunkHeaderSize + length)
        {
            return false;
        }

        var body = input.Slice(SnappyFraming.ChunkHeaderSize, length);
        switch (chunkType)
        {
            case SnappyFraming.CompressedData:
                DecodeCompressed(body, output);
                break;
            case SnappyFraming.UncompressedData:
                DecodeUncompressed(body, output);
                break;
            case SnappyFraming.StreamIdentifier:
                Span<byte> magic = stackalloc byte[SnappyFraming.StreamIdentifierBody.Length];
                body.CopyTo(magic);
                if (!magic.SequenceEqual(SnappyFraming.StreamIdentifierBody))
                {
                    throw new InvalidDataException("Snappy stream identifier chunk does not hold \"sNaPpY\".");
                }

                _sawStreamIdentifier = true;
                break;
            default:
                // 0x80-0xfe: skippable (padding included); CheckHeader refused the unskippable ones.
                break;
        }

        input = input.Slice(body.End);
        return true;
    }

    public void Dispose()
    {
        if (_gather is { } gather)
        {
            _gather = null;
            ArrayPool<byte>.Shared.Return(gather);
        }
    }

    private void CheckHeader(byte chunkType, int length)
    {
        if (!_sawStreamIdentifier && chunkType != SnappyFraming.StreamIdentifier)
        {
            throw new InvalidDataException($"Snappy stream starts with chunk type 0x{chunkType:x2}, not the stream identifier 0xff.");
        }

        if (length > SnappyFraming.MaxChunkLength)
        {
            throw new InvalidDataException($"Snappy chunk of {length} bytes exceeds the format's maximum of {SnappyFraming.MaxChunkLength}.");
        }

        switch (chunkType)
        {
            case SnappyFraming.CompressedData when length < SnappyFraming.ChecksumSize:
            case SnappyFraming.UncompressedData when length < SnappyFraming.ChecksumSize:
                throw new InvalidDataException($"Snappy data chunk of {length} bytes is too short for its checksum.");
            case SnappyFraming.UncompressedData when length - SnappyFraming.ChecksumSize > SnappyFraming.MaxBlockSize:
                throw new InvalidDataException($"Snappy uncompressed chunk holds {length - SnappyFraming.ChecksumSize} bytes, more than {SnappyFraming.MaxBlockSize}.");
            case SnappyFraming.StreamIdentifier when length != SnappyFraming.StreamIdentifierBody.Length:
                throw new InvalidDataException($"Snappy stream identifier chunk of {length} bytes, not 6.");
            case > SnappyFraming.UncompressedData and < SnappyFraming.FirstSkippable:
                throw new InvalidDataException($"Snappy chunk type 0x{chunkType:x2} is reserved and unskippable.");
        }
    }

    private void DecodeCompressed(in ReadOnlySequence<byte> body, IBufferWriter<byte> output)
    {
        ReadOnlySpan<byte> chunk;
        if (body.IsSingleSegment)
        {
            chunk = body.FirstSpan;
        }
        else
        {
            _gather ??= ArrayPool<byte>.Shared.Rent(SnappyFraming.MaxChunkLength);
            body.CopyTo(_gather);
            chunk = _gather.AsSpan(0, (int)body.Length);
        }

        var checksum = BinaryPrimitives.ReadUInt32LittleEndian(chunk);
        var block = chunk[SnappyFraming.ChecksumSize..];
        int length;
        Span<byte> destination;
        try
        {
            length = Snappier.Snappy.GetUncompressedLength(block);
            if (length > SnappyFraming.MaxBlockSize)
            {
                throw new InvalidDataException($"Snappy compressed chunk expands to {length} bytes, more than {SnappyFraming.MaxBlockSize}.");
            }

            destination = output.GetSpan(length)[..length];
            if (Snappier.Snappy.Decompress(block, destination) != length)
            {
                throw new InvalidDataException("Snappy compressed chunk decodes to fewer bytes than its preamble says.");
            }
        }
        catch (ArgumentException e)
        {
            // Snappier reports some malformed blocks as argument errors; to the stream they are all corruption.
            throw new InvalidDataException("Snappy compressed chunk is not a valid snappy block.", e);
        }

        CheckChecksum(checksum, destination);
        output.Advance(length);
    }

    private static void DecodeUncompressed(in ReadOnlySequence<byte> body, IBufferWriter<byte> output)
    {
        Span<byte> checksumBytes = stackalloc byte[SnappyFraming.ChecksumSize];
        body.Slice(0, SnappyFraming.ChecksumSize).CopyTo(checksumBytes);
        var data = body.Slice(SnappyFraming.ChecksumSize);
        var length = (int)data.Length;
        var destination = output.GetSpan(length)[..length];
        data.CopyTo(destination);
        CheckChecksum(BinaryPrimitives.ReadUInt32LittleEndian(checksumBytes), destination);
        output.Advance(length);
    }

    private static void CheckChecksum(uint expected, ReadOnlySpan<byte> data)
    {
        if (SnappyFraming.MaskedCrc32C(data) != expected)
        {
            throw new InvalidDataException("Snappy chunk checksum does not match its data.");
        }
    }
}
