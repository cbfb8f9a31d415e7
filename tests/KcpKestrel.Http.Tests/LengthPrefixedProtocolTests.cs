using System.Buffers;
using System.Buffers.Binary;
using CsCheck;
using KcpKestrel.Http.Tests.Infrastructure;
using KcpKestrel.Protocols;

namespace KcpKestrel.Http.Tests;

public sealed class LengthPrefixedProtocolTests
{
    [Fact]
    public void Write_PrefixesBigEndianLength()
    {
        var writer = new ArrayBufferWriter<byte>();
        LengthPrefixedProtocol.Write(writer, [1, 2, 3]);
        Assert.Equal(new byte[] { 0, 0, 0, 3, 1, 2, 3 }, writer.WrittenSpan.ToArray());
    }

    [Fact]
    public void WriteSequence_SameBytesAsSpan()
    {
        var payload = Payloads.Bytes(100, 1);
        var fromSpan = new ArrayBufferWriter<byte>();
        LengthPrefixedProtocol.Write(fromSpan, payload);
        var fromSequence = new ArrayBufferWriter<byte>();
        LengthPrefixedProtocol.Write(fromSequence, Segments.Split(payload, [10, 33, 90]));
        Assert.Equal(fromSpan.WrittenSpan.ToArray(), fromSequence.WrittenSpan.ToArray());
    }

    [Fact]
    public void TryRead_IncompleteHeaderOrBody_ReturnsFalseAndLeavesBuffer()
    {
        var framed = Frame([[9, 8, 7, 6, 5]]);
        for (var n = 0; n < framed.Length; n++)
        {
            var buffer = new ReadOnlySequence<byte>(framed, 0, n);
            Assert.False(LengthPrefixedProtocol.TryRead(ref buffer, out _));
            Assert.Equal(n, buffer.Length);
        }
    }

    [Fact]
    public void TryRead_EmptyMessage_IsAMessage()
    {
        var buffer = new ReadOnlySequence<byte>(Frame([[], [1]]));
        Assert.True(LengthPrefixedProtocol.TryRead(ref buffer, out var first));
        Assert.True(first.IsEmpty);
        Assert.True(LengthPrefixedProtocol.TryRead(ref buffer, out var second));
        Assert.Equal(new byte[] { 1 }, second.ToArray());
        Assert.True(buffer.IsEmpty);
    }

    [Fact]
    public void TryRead_Oversize_ThrowsAsSoonAsThePrefixArrives()
    {
        var header = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(header, 1001);
        var buffer = new ReadOnlySequence<byte>(header);
        var error = Assert.Throws<InvalidDataException>(() => LengthPrefixedProtocol.TryRead(ref buffer, out _, maxMessageSize: 1000));
        Assert.Contains("1001", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TryRead_ForgedHugeLength_ThrowsWithoutAllocating()
    {
        var buffer = new ReadOnlySequence<byte>([0xFF, 0xFF, 0xFF, 0xFF, 1, 2]);
        Assert.Throws<InvalidDataException>(() => LengthPrefixedProtocol.TryRead(ref buffer, out _));
    }

    [Fact]
    public void TryRead_AtExactlyTheLimit_Accepted()
    {
        var buffer = new ReadOnlySequence<byte>(Frame([new byte[1000]]));
        Assert.True(LengthPrefixedProtocol.TryRead(ref buffer, out var message, maxMessageSize: 1000));
        Assert.Equal(1000, message.Length);
    }

    [Fact]
    public void TryRead_AnySplitIntoSegments_YieldsTheSameMessages()
    {
        Gen.Select(Gen.Byte.Array[0, 300].List[0, 12], Gen.Int[0, 4000].List[0, 30])
            .Sample((messages, cuts) =>
            {
                var framed = Frame(messages);
                var buffer = Segments.Split(framed, cuts);
                var read = new List<byte[]>();
                while (LengthPrefixedProtocol.TryRead(ref buffer, out var message))
                {
                    read.Add(message.ToArray());
                }

                Assert.True(buffer.IsEmpty);
                Assert.Equal(messages.Count, read.Count);
                for (var i = 0; i < read.Count; i++)
                {
                    Assert.Equal(messages[i], read[i]);
                }
            }, seed: "0N0XIzNsQ0O2", iter: 2000, threads: 1);
    }

    [Fact]
    public void TryRead_BytesArrivingInPieces_LikeAPipe_YieldsTheSameMessages()
    {
        Gen.Select(Gen.Byte.Array[0, 200].List[1, 8], Gen.Int[1, 50].List[1, 40])
            .Sample((messages, pieces) =>
            {
                var framed = Frame(messages);
                var read = new List<byte[]>();
                var consumed = 0;
                var available = 0;
                var p = 0;
                while (consumed < framed.Length)
                {
                    available = Math.Min(framed.Length, available + pieces[p++ % pieces.Count]);

                    // What is unread so far, cut where the pieces arrived.
                    var buffer = Segments.Split(framed[consumed..available], [pieces[0], pieces[0] * 2]);
                    var before = buffer.Length;
                    while (LengthPrefixedProtocol.TryRead(ref buffer, out var message))
                    {
                        read.Add(message.ToArray());
                    }

                    consumed += (int)(before - buffer.Length);
                }

                Assert.Equal(messages.Count, read.Count);
                for (var i = 0; i < read.Count; i++)
                {
                    Assert.Equal(messages[i], read[i]);
                }
            }, seed: "0N0XIzNsQ0O2", iter: 1000, threads: 1);
    }

    private static byte[] Frame(IEnumerable<byte[]> messages)
    {
        var writer = new ArrayBufferWriter<byte>();
        foreach (var message in messages)
        {
            LengthPrefixedProtocol.Write(writer, message);
        }

        return writer.WrittenSpan.ToArray();
    }
}
