using System.Buffers;
using CsCheck;
using KcpKestrel.Http.Tests.Infrastructure;
using KcpKestrel.Protocols.Snappy;

namespace KcpKestrel.Http.Tests.Snappy;

/// <summary>The snappy framing decoder against hostile and odd input, and round trips through the encoder.</summary>
public sealed class SnappyFrameDecoderTests
{
    private static readonly byte[] s_streamIdentifier = SnappyFraming.StreamIdentifierChunk.ToArray();

    [Fact]
    public void TryDecode_ChunkLongerThanFormatMaximum_ThrowsFromHeaderAlone()
    {
        // Only the header: the decoder must refuse before waiting for (and buffering) the body.
        var length = SnappyFraming.MaxChunkLength + 1;
        var error = Assert.Throws<InvalidDataException>(() => DecodeAll([.. s_streamIdentifier, 0x00, (byte)length, (byte)(length >> 8), (byte)(length >> 16)]));
        Assert.Contains("maximum", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(SnappyFraming.CompressedData)]
    [InlineData(SnappyFraming.UncompressedData)]
    public void TryDecode_BadChecksum_Throws(byte chunkType)
    {
        var framed = Encode(chunkType == SnappyFraming.CompressedData ? new byte[1000] : Payloads.Bytes(1000, 1));
        Assert.Equal(chunkType, framed[s_streamIdentifier.Length]);
        framed[s_streamIdentifier.Length + 4] ^= 1;
        var error = Assert.Throws<InvalidDataException>(() => DecodeAll(framed));
        Assert.Contains("checksum", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0x02)]
    [InlineData(0x41)]
    [InlineData(0x7f)]
    public void TryDecode_ReservedUnskippableType_Throws(byte chunkType)
    {
        Assert.Throws<InvalidDataException>(() => DecodeAll([.. s_streamIdentifier, chunkType, 1, 0, 0, 0]));
    }

    [Theory]
    [InlineData(0x80)]
    [InlineData(0xfd)]
    [InlineData(SnappyFraming.Padding)]
    public void TryDecode_SkippableChunks_Skipped(byte chunkType)
    {
        var data = Payloads.Bytes(300, 2);
        var framed = Encode(data);
        byte[] skippable = [chunkType, 3, 0, 0, 9, 9, 9];
        byte[] stream = [.. framed[..s_streamIdentifier.Length], .. skippable, .. framed[s_streamIdentifier.Length..], .. skippable];
        Assert.Equal(data, DecodeAll(stream));
    }

    [Fact]
    public void TryDecode_DataBeforeStreamIdentifier_Throws()
    {
        var framed = Encode(Payloads.Bytes(10, 3));
        Assert.Throws<InvalidDataException>(() => DecodeAll(framed[s_streamIdentifier.Length..]));
    }

    [Fact]
    public void TryDecode_WrongStreamIdentifier_Throws()
    {
        var framed = Encode(Payloads.Bytes(10, 4));
        framed[4] = (byte)'S';
        Assert.Throws<InvalidDataException>(() => DecodeAll(framed));
    }

    [Fact]
    public void TryDecode_UncompressedChunkPast64KiB_Throws()
    {
        var length = SnappyFraming.ChecksumSize + SnappyFraming.MaxBlockSize + 1;
        Assert.Throws<InvalidDataException>(() => DecodeAll([.. s_streamIdentifier, 0x01, (byte)length, (byte)(length >> 8), (byte)(length >> 16)]));
    }

    [Fact]
    public void TryDecode_CompressedChunkExpandingPast64KiB_Throws()
    {
        // A block whose preamble (varint 65537) promises more than a chunk may hold.
        byte[] block = [0x81, 0x80, 0x04, 0x00];
        var length = SnappyFraming.ChecksumSize + block.Length;
        Assert.Throws<InvalidDataException>(() => DecodeAll([.. s_streamIdentifier, 0x00, (byte)length, 0, 0, 0, 0, 0, 0, .. block]));
    }

    [Fact]
    public void TryDecode_IncompleteChunk_WaitsWithoutConsuming()
    {
        var framed = Encode(Payloads.Bytes(5000, 5));
        using var decoder = new SnappyFrameDecoder();
        var output = new ArrayBufferWriter<byte>();
        var buffer = new ReadOnlySequence<byte>(framed, 0, framed.Length - 1);
        Assert.True(decoder.TryDecode(ref buffer, output));
        var before = buffer.Length;
        Assert.False(decoder.TryDecode(ref buffer, output));
        Assert.Equal(before, buffer.Length);
        Assert.Equal(0, output.WrittenCount);
    }

    [Fact]
    public void TryDecode_RandomBodies_DecodeOrThrowInvalidData()
    {
        // Fuzz-ish: random chunk types and bodies after a valid stream identifier must either decode
        // or be refused as corrupt data, never fail any other way.
        Gen.Byte.Array[0, 200].Select(Gen.Byte).Sample((body, chunkType) =>
        {
            var length = body.Length;
            byte[] stream = [.. s_streamIdentifier, chunkType, (byte)length, (byte)(length >> 8), 0, .. body];
            try
            {
                DecodeAll(stream);
            }
            catch (InvalidDataException)
            {
            }
        }, iter: 5000);
    }

    [Fact]
    public void EncodeDecode_RandomWritesAndSegments_RoundTrip()
    {
        Gen.Int[0, 200_000].Select(Gen.Int[1, 70_000].Array[1, 6], Gen.Int[1, 5000].Array[0, 8], Gen.Bool)
            .Sample((length, writes, cuts, compressible) =>
            {
                var data = compressible ? new byte[length] : Payloads.Bytes(length, length);
                using var encoder = new SnappyFrameEncoder();
                var framed = new ArrayBufferWriter<byte>();
                var offset = 0;
                foreach (var write in writes.Append(length))
                {
                    var take = Math.Min(write, length - offset);
                    encoder.Encode(Segments.Split(data[offset..(offset + take)], [take / 3, take / 2]), framed);
                    offset += take;
                }

                var bytes = framed.WrittenSpan.ToArray();
                var sortedCuts = cuts.Where(c => c < bytes.Length).Distinct().Order().ToArray();
                Assert.Equal(data, DecodeAll(Segments.Split(bytes, sortedCuts)));
            }, iter: 50);
    }

    [Fact]
    public void EncodeDecode_SteadyState_AllocatesOnlySnappiersCodecObjects()
    {
        var data = Payloads.Bytes(SnappyFraming.MaxBlockSize, 6);
        Array.Fill(data, (byte)'k', 0, data.Length / 2);
        using var encoder = new SnappyFrameEncoder();
        using var decoder = new SnappyFrameDecoder();
        var framed = new ArrayBufferWriter<byte>(256 * 1024);
        var decoded = new ArrayBufferWriter<byte>(256 * 1024);
        var split = Segments.Split(data, [1000, 40_000]);

        void Round()
        {
            framed.ResetWrittenCount();
            decoded.ResetWrittenCount();
            encoder.Encode(split, framed);
            var buffer = new ReadOnlySequence<byte>(framed.WrittenMemory);
            while (decoder.TryDecode(ref buffer, decoded))
            {
            }
        }

        Round();
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10; i++)
        {
            Round();
        }

        // No buffer is allocated per chunk (framing writes straight into the caller's buffers, gathers
        // into pooled arrays). Snappier 1.3.1's Snappy.Compress and Decompress each new up a small
        // internal codec object per call (48 and 80 bytes), which its public API cannot reuse.
        const int snappierBytesPerRound = 48 + 80;
        Assert.InRange(GC.GetAllocatedBytesForCurrentThread() - before, 0, 10 * snappierBytesPerRound);
        Assert.Equal(data, decoded.WrittenSpan.ToArray());
    }

    private static byte[] Encode(byte[] data)
    {
        using var encoder = new SnappyFrameEncoder();
        var output = new ArrayBufferWriter<byte>();
        encoder.Encode(data, output);
        return output.WrittenSpan.ToArray();
    }

    private static byte[] DecodeAll(byte[] framed) => DecodeAll(new ReadOnlySequence<byte>(framed));

    private static byte[] DecodeAll(ReadOnlySequence<byte> buffer)
    {
        using var decoder = new SnappyFrameDecoder();
        var output = new ArrayBufferWriter<byte>();
        while (decoder.TryDecode(ref buffer, output))
        {
        }

        Assert.True(buffer.IsEmpty, "the stream ends inside a chunk");
        return output.WrittenSpan.ToArray();
    }
}
