using System.Buffers;
using KcpKestrel.Smux.Frames;

namespace KcpKestrel.Smux.Tests.Frames;

public sealed class SmuxFrameCodecTests
{
    [Fact]
    public void Write_GoClientExchange_MatchesSmuxBytes()
    {
        Assert.Equal(SmuxGoVectors.V1Client, ClientExchange(1, update: false));
        Assert.Equal(SmuxGoVectors.V2Client, ClientExchange(2, update: true));
    }

    [Fact]
    public void Write_GoServerExchange_MatchesSmuxBytes()
    {
        Assert.Equal(SmuxGoVectors.V1Server, ServerExchange(1, update: false));
        Assert.Equal(SmuxGoVectors.V2Server, ServerExchange(2, update: true));
    }

    [Theory]
    [InlineData(SmuxGoVectors.V1Client, 1)]
    [InlineData(SmuxGoVectors.V1Server, 1)]
    [InlineData(SmuxGoVectors.V2Client, 2)]
    [InlineData(SmuxGoVectors.V2Server, 2)]
    public void TryParseHeader_GoBytes_ParsesEveryFrame(string hex, byte version)
    {
        var bytes = Convert.FromHexString(hex).AsSpan();
        var frames = 0;
        while (!bytes.IsEmpty)
        {
            Assert.Equal(SmuxParseStatus.Ok, SmuxFrameCodec.TryParseHeader(bytes, version, out var header));
            Assert.Equal(3u, header.StreamId);
            bytes = bytes[(SmuxFrameCodec.HeaderSize + header.Length)..];
            frames++;
        }

        Assert.True(frames >= 2);
    }

    [Theory]
    [InlineData("0100000003000000", 2, nameof(SmuxParseStatus.WrongVersion))]
    [InlineData("0105000003000000", 1, nameof(SmuxParseStatus.UnknownCommand))]
    [InlineData("0104080003000000", 1, nameof(SmuxParseStatus.UnknownCommand))]
    [InlineData("0204040003000000", 2, nameof(SmuxParseStatus.BadUpdateLength))]
    [InlineData("0100010003000000", 1, nameof(SmuxParseStatus.UnexpectedPayload))]
    [InlineData("01000000030000", 1, nameof(SmuxParseStatus.NeedMore))]
    [InlineData("0102ffff03000000", 1, nameof(SmuxParseStatus.Ok))]
    public void TryParseHeader_Input_ReportsStatus(string hex, byte version, string expected)
    {
        Assert.Equal(Enum.Parse<SmuxParseStatus>(expected), SmuxFrameCodec.TryParseHeader(Convert.FromHexString(hex), version, out _));
    }

    [Fact]
    public void TryParseHeader_HeaderAcrossSegments_Parses()
    {
        var bytes = Convert.FromHexString("0102050003000000");
        var first = new Segment(bytes.AsMemory(0, 3));
        var last = first.Append(bytes.AsMemory(3));
        var sequence = new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);

        Assert.Equal(SmuxParseStatus.Ok, SmuxFrameCodec.TryParseHeader(sequence, 1, out var header));
        Assert.Equal(new SmuxFrameHeader(1, SmuxCommand.Psh, 5, 3), header);
    }

    private static string ClientExchange(byte version, bool update)
    {
        var writer = new ArrayBufferWriter<byte>();
        SmuxFrameCodec.WriteControl(writer, version, SmuxCommand.Syn, 3);
        SmuxFrameCodec.WriteData(writer, version, 3, new ReadOnlySequence<byte>("hello"u8.ToArray()));
        if (update)
        {
            SmuxFrameCodec.WriteUpdate(writer, version, 3, 5, 65536);
        }

        SmuxFrameCodec.WriteControl(writer, version, SmuxCommand.Fin, 3);
        return Convert.ToHexStringLower(writer.WrittenSpan);
    }

    private static string ServerExchange(byte version, bool update)
    {
        var writer = new ArrayBufferWriter<byte>();
        if (update)
        {
            SmuxFrameCodec.WriteUpdate(writer, version, 3, 5, 65536);
        }

        SmuxFrameCodec.WriteData(writer, version, 3, new ReadOnlySequence<byte>("world"u8.ToArray()));
        SmuxFrameCodec.WriteControl(writer, version, SmuxCommand.Fin, 3);
        return Convert.ToHexStringLower(writer.WrittenSpan);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory) => Memory = memory;

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory) { RunningIndex = RunningIndex + Memory.Length };
            Next = next;
            return next;
        }
    }
}
