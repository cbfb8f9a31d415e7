using CsCheck;
using KcpKestrel.Core.Arq;

namespace KcpKestrel.Core.Tests.Arq;

public sealed class SegmentHeaderTests
{
    [Fact]
    public void Write_UsesKcpGoLittleEndianLayout()
    {
        var header = new SegmentHeader(0x11223344, KcpCommand.Push, 2, 0x0102, 0xA0B0C0D0, 7, 5, 3);
        var bytes = new byte[SegmentHeader.Size];

        header.Write(bytes);

        Assert.Equal(
            new byte[] { 0x44, 0x33, 0x22, 0x11, 81, 2, 0x02, 0x01, 0xD0, 0xC0, 0xB0, 0xA0, 7, 0, 0, 0, 5, 0, 0, 0, 3, 0, 0, 0 },
            bytes);
    }

    [Fact]
    public void TryRead_RejectsTruncatedHeader()
    {
        Assert.False(SegmentHeader.TryRead(new byte[SegmentHeader.Size - 1], out _));
    }

    [Fact]
    public void RoundTrips_AnyHeader()
    {
        Gen.Select(Gen.UInt, Gen.Byte, Gen.Byte, Gen.UShort, Gen.UInt, Gen.UInt, Gen.UInt, Gen.UInt)
            .Sample((conv, cmd, frg, wnd, ts, sn, una, len) =>
            {
                var header = new SegmentHeader(conv, (KcpCommand)cmd, frg, wnd, ts, sn, una, len);
                Span<byte> buffer = stackalloc byte[SegmentHeader.Size];
                header.Write(buffer);
                return SegmentHeader.TryRead(buffer, out var read) && read == header;
            });
    }
}
