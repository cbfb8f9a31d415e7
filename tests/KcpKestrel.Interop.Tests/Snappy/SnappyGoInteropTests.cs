using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using KcpKestrel.Protocols.Snappy;

namespace KcpKestrel.Interop.Tests.Snappy;

/// <summary>
/// Our snappy framing against golang/snappy's, as kcptun's CompStream drives it (Write then Flush):
/// the same bytes for the same writes, and each side decodes the other.
/// </summary>
public sealed class SnappyGoInteropTests
{
    public static TheoryData<string> Cases => new(s_cases.Keys);

    private static readonly Dictionary<string, (byte[] Input, int[] Writes)> s_cases = new()
    {
        ["empty"] = ([], []),
        ["one byte"] = ([0x42], []),
        ["70 bytes"] = (Encoding.ASCII.GetBytes(new string('a', 30) + "the quick brown fox jumps over."), []),
        ["random 100 KiB"] = (Random(100 * 1024, 1), []),
        ["compressible 1 MiB"] = (Compressible(1024 * 1024), []),
        ["compressible, odd writes"] = (Compressible(300_000), [1, 7, 4093, 65535, 65536, 65537, 1, 0, 99_999]),
        ["random, odd writes"] = (Random(200_000, 2), [3, 65536, 17, 131_073]),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Encoder_SameWritesAsGo_SameBytes(string name)
    {
        var (input, writes) = s_cases[name];
        var go = await GoSnappy.EncodeAsync(input, writes);
        var ours = Encode(input, writes);

        // Framing first (stream identifier, chunk types, lengths, checksums), then the whole stream.
        Assert.Equal(Headers(go), Headers(ours));
        Assert.Equal(go, ours);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task GoDecoder_OurStream_GetsInput(string name)
    {
        var (input, writes) = s_cases[name];
        Assert.Equal(input, await GoSnappy.DecodeAsync(Encode(input, writes)));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Decoder_GoStream_GetsInput(string name)
    {
        var (input, writes) = s_cases[name];
        var go = await GoSnappy.EncodeAsync(input, writes);
        using var decoder = new SnappyFrameDecoder();
        var output = new ArrayBufferWriter<byte>();
        var buffer = new ReadOnlySequence<byte>(go);
        while (decoder.TryDecode(ref buffer, output))
        {
        }

        Assert.True(buffer.IsEmpty);
        Assert.Equal(input, output.WrittenSpan.ToArray());
    }

    [Fact]
    public async Task DuplexPipe_BothWaysWithGo_RoundTrips()
    {
        var (input, writes) = s_cases["compressible, odd writes"];
        var toPeer = new Pipe();
        var fromPeer = new Pipe();
        await using var snappy = new SnappyDuplexPipe(new Transport(fromPeer.Reader, toPeer.Writer));

        // Our writes, flushed one by one, as Go's reader sees them.
        var offset = 0;
        foreach (var size in writes.Append(input.Length))
        {
            var take = Math.Min(size, input.Length - offset);
            await snappy.Output.WriteAsync(input.AsMemory(offset, take));
            offset += take;
        }

        await snappy.Output.CompleteAsync();
        var sent = await ReadToEndAsync(toPeer.Reader);
        Assert.Equal(input, await GoSnappy.DecodeAsync(sent));

        // Go's stream, as our reader sees it.
        await fromPeer.Writer.WriteAsync(await GoSnappy.EncodeAsync(input, writes));
        await fromPeer.Writer.CompleteAsync();
        Assert.Equal(input, await ReadToEndAsync(snappy.Input));
    }

    internal static byte[] Encode(byte[] input, int[] writes)
    {
        using var encoder = new SnappyFrameEncoder();
        var output = new ArrayBufferWriter<byte>();
        var rest = input.AsSpan();
        foreach (var size in writes)
        {
            var take = Math.Min(size, rest.Length);
            encoder.Encode(rest[..take], output);
            rest = rest[take..];
        }

        encoder.Encode(rest, output);
        return output.WrittenSpan.ToArray();
    }

    private static async Task<byte[]> ReadToEndAsync(PipeReader reader)
    {
        var stream = new MemoryStream();
        await reader.CopyToAsync(stream).WaitAsync(TestWaits.Bound);
        return stream.ToArray();
    }

    /// <summary>Each chunk's type, length and checksum word, as "tt llllll cccccccc".</summary>
    private static List<string> Headers(byte[] framed)
    {
        var headers = new List<string>();
        for (var i = 0; i < framed.Length;)
        {
            var length = framed[i + 1] | (framed[i + 2] << 8) | (framed[i + 3] << 16);
            var check = framed[i] is 0 or 1 ? Convert.ToHexString(framed, i + 4, 4) : "";
            headers.Add($"{framed[i]:x2} {length:x6} {check}");
            i += 4 + length;
        }

        return headers;
    }

    private static byte[] Random(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static byte[] Compressible(int length)
    {
        string[] words = ["kcp ", "snappy ", "stream ", "kestrel ", "tunnel ", "frame ", "window ", "ack "];
        var random = new Random(3);
        var text = new StringBuilder(length + 16);
        while (text.Length < length)
        {
            text.Append(words[random.Next(words.Length)]);
        }

        return Encoding.ASCII.GetBytes(text.ToString(0, length));
    }

    private sealed class Transport(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
