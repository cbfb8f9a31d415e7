using System.Buffers;

namespace KcpKestrel.Protocols.Snappy;

/// <summary>
/// Writes snappy framing as golang/snappy's buffered writer does when flushed after every write
/// (kcptun's CompStream): the stream identifier before the first chunk, then each flushed run of
/// bytes cut into 64 KiB blocks, each compressed unless that saves less than 12.5%. Pure: no I/O.
/// </summary>
internal sealed class SnappyFrameEncoder : IDisposable
{
    // Gathers a block that spans segments of a ReadOnlySequence; Snappier compresses spans only.
    private byte[]? _gather;
    private bool _wroteStreamIdentifier;

    /// <summary>Frames <paramref name="data"/> (one application flush) into <paramref name="output"/>. Empty data writes nothing, as in Go.</summary>
    public void Encode(ReadOnlySpan<byte> data, IBufferWriter<byte> output)
    {
        while (!data.IsEmpty)
        {
            var take = Math.Min(data.Length, SnappyFraming.MaxBlockSize);
            EncodeBlock(data[..take], output);
            data = data[take..];
        }
    }

    /// <summary>Frames <paramref name="data"/> (one application flush) into <paramref name="output"/>.</summary>
    public void Encode(in ReadOnlySequence<byte> data, IBufferWriter<byte> output)
    {
        var rest = data;
        while (!rest.IsEmpty)
        {
            var take = (int)Math.Min(rest.Length, SnappyFraming.MaxBlockSize);
            var block = rest.Slice(0, take);
            if (block.IsSingleSegment)
            {
                EncodeBlock(block.FirstSpan, output);
            }
            else
            {
                _gather ??= ArrayPool<byte>.Shared.Rent(SnappyFraming.MaxBlockSize);
                block.CopyTo(_gather);
                EncodeBlock(_gather.AsSpan(0, take), output);
            }

            rest = rest.Slice(take);
        }
    }

    public void Dispose()
    {
        if (_gather is { } gather)
        {
            _gather = null;
            ArrayPool<byte>.Shared.Return(gather);
        }
    }

    private void EncodeBlock(ReadOnlySpan<byte> block, IBufferWriter<byte> output)
    {
        if (!_wroteStreamIdentifier)
        {
            output.Write(SnappyFraming.StreamIdentifierChunk);
            _wroteStreamIdentifier = true;
        }

        var checksum = SnappyFraming.MaskedCrc32C(block);
        var span = output.GetSpan(SnappyFraming.DataChunkOverhead + Snappier.Snappy.GetMaxCompressedLength(block.Length));
        var payload = span[SnappyFraming.DataChunkOverhead..];
        var length = Snappier.Snappy.Compress(block, payload);
        var chunkType = SnappyFraming.CompressedData;

        // Go's rule, kept so the chunk types match byte for byte: compression must save at least 1/8.
        if (length >= block.Length - (block.Length / 8))
        {
            block.CopyTo(payload);
            length = block.Length;
            chunkType = SnappyFraming.UncompressedData;
        }

        SnappyFraming.WriteDataChunkHeader(span, chunkType, length, checksum);
        output.Advance(SnappyFraming.DataChunkOverhead + length);
    }
}
