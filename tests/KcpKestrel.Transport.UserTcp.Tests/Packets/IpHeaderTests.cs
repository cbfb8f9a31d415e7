using System.Buffers.Binary;
using System.Net;
using KcpKestrel.Transport.UserTcp.Packets;

namespace KcpKestrel.Transport.UserTcp.Tests.Packets;

public sealed class IpHeaderTests
{
    private static byte[] V4(int payloadLength = 8)
    {
        var packet = new byte[20 + payloadLength];
        Ipv4Header.Write(packet, [10, 77, 0, 2], [10, 77, 0, 1], 6, payloadLength, 0x1234, 64);
        return packet;
    }

    private static void Rechecksum(byte[] packet)
    {
        int ihl = (packet[0] & 0x0F) * 4;
        packet[10] = packet[11] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(10), InternetChecksum.Checksum(packet.AsSpan(0, ihl)));
    }

    [Fact]
    public void IPv4_WrittenHeader_ReadsBack()
    {
        var packet = V4();
        Assert.Equal(PacketDropReason.None, Ipv4Header.TryRead(packet, out var header));
        Assert.Equal(20, header.HeaderLength);
        Assert.Equal(6, header.Protocol);
        Assert.Equal(64, header.Ttl);
        Assert.Equal(0x1234, header.Identification);
        Assert.True(header.IsDontFragment);
        Assert.Equal(new byte[] { 10, 77, 0, 2 }, header.Source.ToArray());
        Assert.Equal(new byte[] { 10, 77, 0, 1 }, header.Destination.ToArray());
        Assert.Equal(8, header.Payload.Length);
    }

    [Fact]
    public void IPv4_LinkPadding_IsCutOffByTotalLength()
    {
        var packet = V4();
        Array.Resize(ref packet, packet.Length + 6);
        Assert.Equal(PacketDropReason.None, Ipv4Header.TryRead(packet, out var header));
        Assert.Equal(8, header.Payload.Length);
    }

    [Fact]
    public void IPv4_WithOptions_ReadsPayloadAfterThem()
    {
        var packet = new byte[24 + 4];
        Ipv4Header.Write(packet, [10, 77, 0, 2], [10, 77, 0, 1], 6, 8, 1, 64);
        packet[0] = 0x46;
        packet[24] = 0xAB;
        Rechecksum(packet);
        Assert.Equal(PacketDropReason.None, Ipv4Header.TryRead(packet, out var header));
        Assert.Equal(24, header.HeaderLength);
        Assert.Equal(0xAB, header.Payload[0]);
    }

    [Fact]
    public void IPv4_Drops()
    {
        Assert.Equal(PacketDropReason.Truncated, Ipv4Header.TryRead(V4().AsSpan(0, 19), out _));

        var badVersion = V4();
        badVersion[0] = 0x55;
        Assert.Equal(PacketDropReason.BadVersion, Ipv4Header.TryRead(badVersion, out _));

        var smallIhl = V4();
        smallIhl[0] = 0x44;
        Assert.Equal(PacketDropReason.BadIpHeader, Ipv4Header.TryRead(smallIhl, out _));

        var ihlPastTotal = V4(0);
        ihlPastTotal[0] = 0x4F;
        Assert.Equal(PacketDropReason.BadIpHeader, Ipv4Header.TryRead(ihlPastTotal, out _));

        var longTotal = V4();
        BinaryPrimitives.WriteUInt16BigEndian(longTotal.AsSpan(2), 29);
        Rechecksum(longTotal);
        Assert.Equal(PacketDropReason.Truncated, Ipv4Header.TryRead(longTotal, out _));

        var badChecksum = V4();
        badChecksum[8] = 63;
        Assert.Equal(PacketDropReason.BadIpChecksum, Ipv4Header.TryRead(badChecksum, out _));
    }

    [Theory]
    [InlineData(0x2000)] // MF
    [InlineData(0x0001)] // offset 8
    [InlineData(0x3FFF)]
    public void IPv4_Fragments_AreDropped(int fragmentField)
    {
        var packet = V4();
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(6), (ushort)fragmentField);
        Rechecksum(packet);
        Assert.Equal(PacketDropReason.Fragment, Ipv4Header.TryRead(packet, out _));
    }

    [Theory]
    [InlineData("0.0.0.0", true)]
    [InlineData("0.1.2.3", true)]
    [InlineData("127.0.0.1", true)]
    [InlineData("224.0.0.1", true)]
    [InlineData("239.255.255.255", true)]
    [InlineData("255.255.255.255", true)]
    [InlineData("240.0.0.1", true)]
    [InlineData("10.77.0.2", false)]
    [InlineData("192.168.1.1", false)]
    [InlineData("223.255.255.254", false)]
    public void IPv4_MartianSources(string address, bool martian)
    {
        Assert.Equal(martian, Ipv4Header.IsMartianSource(IPAddress.Parse(address).GetAddressBytes()));
    }

    private static byte[] V6(int payloadLength = 8, byte nextHeader = 6)
    {
        var packet = new byte[40 + payloadLength];
        Ipv6Header.Write(packet, IPAddress.Parse("fd00:77::2").GetAddressBytes(), IPAddress.Parse("fd00:77::1").GetAddressBytes(), nextHeader, payloadLength, 64);
        return packet;
    }

    [Fact]
    public void IPv6_WrittenHeader_ReadsBack()
    {
        var packet = V6();
        Array.Resize(ref packet, packet.Length + 3);
        Assert.Equal(PacketDropReason.None, Ipv6Header.TryRead(packet, out var header));
        Assert.Equal(6, header.NextHeader);
        Assert.Equal(64, header.HopLimit);
        Assert.Equal(IPAddress.Parse("fd00:77::2"), new IPAddress(header.Source));
        Assert.Equal(IPAddress.Parse("fd00:77::1"), new IPAddress(header.Destination));
        Assert.Equal(8, header.Payload.Length);
    }

    [Fact]
    public void IPv6_Drops()
    {
        Assert.Equal(PacketDropReason.Truncated, Ipv6Header.TryRead(V6().AsSpan(0, 39), out _));
        Assert.Equal(PacketDropReason.Truncated, Ipv6Header.TryRead(V6().AsSpan(0, 47), out _));
        Assert.Equal(PacketDropReason.Fragment, Ipv6Header.TryRead(V6(nextHeader: 44), out _));
        Assert.Equal(PacketDropReason.NotTcp, Ipv6Header.TryRead(V6(nextHeader: 0), out _)); // hop-by-hop
        Assert.Equal(PacketDropReason.NotTcp, Ipv6Header.TryRead(V6(nextHeader: 17), out _));
        Assert.Equal(PacketDropReason.BadIpHeader, Ipv6Header.TryRead(V6(0), out _));

        var badVersion = V6();
        badVersion[0] = 0x40;
        Assert.Equal(PacketDropReason.BadVersion, Ipv6Header.TryRead(badVersion, out _));
    }

    [Theory]
    [InlineData("::", true)]
    [InlineData("::1", true)]
    [InlineData("ff02::1", true)]
    [InlineData("::ffff:10.0.0.1", true)]
    [InlineData("fd00:77::2", false)]
    [InlineData("fe80::1", false)]
    [InlineData("::2", false)]
    public void IPv6_MartianSources(string address, bool martian)
    {
        Assert.Equal(martian, Ipv6Header.IsMartianSource(IPAddress.Parse(address).GetAddressBytes()));
    }
}
