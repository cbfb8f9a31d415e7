using System.Buffers;
using System.Text;
using BenchmarkDotNet.Attributes;
using KcpKestrel.Protocols.Snappy;

namespace KcpKestrel.Benchmarks.Compression;

/// <summary>
/// kcptun's compression per write: frame (compress + CRC-32C + header) one 64 KiB flush, and decode
/// it back. Go's figure for the same data: tests/GoVectors/snappy's "bench 65536 N" mode.
/// </summary>
[MemoryDiagnoser]
public class SnappyFramingBenchmarks
{
    private const int Size = 64 * 1024;
    private readonly ArrayBufferWriter<byte> _framed = new(128 * 1024);
    private readonly ArrayBufferWriter<byte> _decoded = new(128 * 1024);
    private SnappyFrameEncoder _encoder = null!;
    private SnappyFrameDecoder _decoder = null!;
    private byte[] _data = null!;
    private byte[] _chunk = null!;

    [Params("compressible", "random")]
    public string Data { get; set; } = "compressible";

    [GlobalSetup]
    public void Setup()
    {
        _data = Data == "random" ? RandomBytes() : Compressible();
        _encoder = new SnappyFrameEncoder();
        _decoder = new SnappyFrameDecoder();

        // One framed chunk, after the stream identifier, for the decode benchmark.
        _encoder.Encode(_data, _framed);
        var stream = new ReadOnlySequence<byte>(_framed.WrittenMemory);
        while (_decoder.TryDecode(ref stream, _decoded))
        {
        }

        _framed.ResetWrittenCount();
        _encoder.Encode(_data, _framed);
        _chunk = _framed.WrittenSpan.ToArray();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _encoder.Dispose();
        _decoder.Dispose();
    }

    [Benchmark]
    public int Encode()
    {
        _framed.ResetWrittenCount();
        _encoder.Encode(_data, _framed);
        return _framed.WrittenCount;
    }

    [Benchmark]
    public int Decode()
    {
        _decoded.ResetWrittenCount();
        var buffer = new ReadOnlySequence<byte>(_chunk);
        _decoder.TryDecode(ref buffer, _decoded);
        return _decoded.WrittenCount;
    }

    // The Go program's generator, so both sides compress the same bytes.
    private static byte[] Compressible()
    {
        string[] words = ["kcp ", "snappy ", "stream ", "kestrel ", "tunnel ", "frame ", "window ", "ack "];
        var text = new StringBuilder(Size + 16);
        var seed = 1u;
        while (text.Length < Size)
        {
            seed = (seed * 1664525) + 1013904223;
            text.Append(words[seed >> 29]);
        }

        return Encoding.ASCII.GetBytes(text.ToString(0, Size));
    }

    private static byte[] RandomBytes()
    {
        var bytes = new byte[Size];
        new Random(1).NextBytes(bytes);
        return bytes;
    }
}
