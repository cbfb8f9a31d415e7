using System.Buffers.Binary;
using KcpKestrel.Core.Arq;
using KcpKestrel.Core.Crypto;
using KcpKestrel.Core.Fec;

namespace KcpKestrel.Core.Tests.Fec;

public sealed class KcpPayloadCheckTests
{
    private const byte Close = 88;
    private static readonly KcpPayloadCheck Check = new([Close]);

    private static byte[] Segment(byte cmd, uint len, int payloadLength)
    {
        var payload = new byte[payloadLength];
        new SegmentHeader(0x11223344, (KcpCommand)cmd, 0, 128, 1, 2, 3, len).Write(payload);
        return payload;
    }

    private static PrefixVerdict Judge(byte[] payload) => Judge(payload, payload.Length);

    private static PrefixVerdict Judge(ReadOnlySpan<byte> payload, int payloadLength)
    {
        // As a cipher does: start from nothing, give what is asked for.
        var verdict = Check.Check(default, payloadLength, out var needed);
        while (verdict == PrefixVerdict.NeedMore)
        {
            Assert.InRange(needed, 1, Check.MaxPrefixLength);
            verdict = Check.Check(payload[..Math.Min(needed, payload.Length)], payloadLength, out needed);
        }

        return verdict;
    }

    [Theory]
    [InlineData(81)]
    [InlineData(82)]
    [InlineData(83)]
    [InlineData(84)]
    [InlineData(Close)]
    public void KnownCommand_LenWithinDatagram_IsPlausible(byte cmd)
    {
        Assert.Equal(PrefixVerdict.Plausible, Judge(Segment(cmd, 0, 24)));
        Assert.Equal(PrefixVerdict.Plausible, Judge(Segment(cmd, 100, 124)));
        Assert.Equal(PrefixVerdict.Plausible, Judge(Segment(cmd, 100, 1400)));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(80)]
    [InlineData(85)]
    [InlineData(89)]
    [InlineData(90)]
    [InlineData(0xF1)]
    [InlineData(255)]
    public void UnknownCommand_IsImplausible(byte cmd) => Assert.Equal(PrefixVerdict.Implausible, Judge(Segment(cmd, 0, 24)));

    [Fact]
    public void ExtraCommands_AreThoseOfTheListener()
    {
        var validating = new KcpPayloadCheck([Close, 89, 90]);
        var payload = Segment(90, 20, 68);
        Assert.Equal(PrefixVerdict.Implausible, Judge(payload));
        Assert.Equal(PrefixVerdict.NeedMore, validating.Check(payload.AsSpan(0, 6), payload.Length, out var needed));
        Assert.Equal(PrefixVerdict.Plausible, validating.Check(payload.AsSpan(0, needed), payload.Length, out _));
    }

    [Theory]
    [InlineData(1, 24)]
    [InlineData(101, 124)]
    [InlineData(uint.MaxValue, 1400)]
    [InlineData(0x8000_0000, 1400)]
    public void LenBeyondDatagram_IsImplausible(uint len, int payloadLength)
        => Assert.Equal(PrefixVerdict.Implausible, Judge(Segment(81, len, payloadLength)));

    [Theory]
    [InlineData(0)]
    [InlineData(8)]
    [InlineData(23)]
    public void ShorterThanASegmentHeader_IsImplausible(int length)
        => Assert.Equal(PrefixVerdict.Implausible, Check.Check(default, length, out _));

    [Fact]
    public void ParityShard_IsPlausibleOnItsFlag()
    {
        var payload = new byte[200];
        new Random(1).NextBytes(payload);
        BinaryPrimitives.WriteUInt16LittleEndian(payload.AsSpan(4), FecPacket.TypeParity);
        Assert.Equal(PrefixVerdict.Plausible, Judge(payload));
    }

    [Theory]
    [InlineData(2, true)]
    [InlineData(194, true)]
    [InlineData(0, false)]
    [InlineData(1, false)]
    [InlineData(195, false)]
    [InlineData(ushort.MaxValue, false)]
    public void DataShard_IsPlausibleWhenItsSizeFieldIsOneTheDecoderTakes(ushort size, bool plausible)
    {
        var payload = new byte[200];
        BinaryPrimitives.WriteUInt16LittleEndian(payload.AsSpan(4), FecPacket.TypeData);
        BinaryPrimitives.WriteUInt16LittleEndian(payload.AsSpan(6), size);
        Assert.Equal(plausible ? PrefixVerdict.Plausible : PrefixVerdict.Implausible, Judge(payload));
    }

    [Fact]
    public void KcpGoDatagrams_WithAndWithoutFec_AreAllPlausible()
    {
        var datagrams = Crypto.PrefixCheckedOpenTests.KcpGoPayloads();
        Assert.True(datagrams.Count > 50);
        Assert.All(datagrams, d => Assert.Equal(PrefixVerdict.Plausible, Judge(d)));
    }

    [Fact]
    public void RandomPayloads_AreAlmostAllImplausible()
    {
        var random = new Random(5);
        var payload = new byte[1400];
        var plausible = 0;
        for (var i = 0; i < 10_000; i++)
        {
            random.NextBytes(payload);
            plausible += Judge(payload) == PrefixVerdict.Plausible ? 1 : 0;
        }

        // About 2 in 65,536 carry an FEC flag; a known cmd with a len that fits is rarer still.
        Assert.InRange(plausible, 0, 5);
    }
}
