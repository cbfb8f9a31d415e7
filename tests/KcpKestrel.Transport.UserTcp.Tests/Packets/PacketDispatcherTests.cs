using System.Buffers.Binary;
using System.Net;
using CsCheck;
using KcpKestrel.Transport.UserTcp.Packets;
using KcpKestrel.Transport.UserTcp.Tcp;

namespace KcpKestrel.Transport.UserTcp.Tests.Packets;

public sealed class PacketDispatcherTests
{
    private readonly RecordingSegmentInput _input = new();
    private readonly PacketCounters _counters = new();
    private readonly PacketDispatcher _dispatcher;

    public PacketDispatcherTests() => _dispatcher = new PacketDispatcher(TestPackets.StackAddresses, _input, _counters);

    /// <summary>Recomputes the IPv4 header checksum and the TCP checksum after a test has edited a packet.</summary>
    private static void FixChecksums(byte[] packet)
    {
        if (packet[0] >> 4 == 4)
        {
            int ihl = (packet[0] & 0x0F) * 4;
            packet[10] = packet[11] = 0;
            BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(10), InternetChecksum.Checksum(packet.AsSpan(0, ihl)));
            var tcp = packet.AsSpan(ihl);
            tcp[16] = tcp[17] = 0;
            ushort pseudo = InternetChecksum.PseudoHeaderSumIPv4(packet.AsSpan(12, 4), packet.AsSpan(16, 4), 6, tcp.Length);
            BinaryPrimitives.WriteUInt16BigEndian(tcp[16..], InternetChecksum.TcpChecksum(pseudo, tcp));
        }
        else
        {
            var tcp = packet.AsSpan(40);
            tcp[16] = tcp[17] = 0;
            ushort pseudo = InternetChecksum.PseudoHeaderSumIPv6(packet.AsSpan(8, 16), packet.AsSpan(24, 16), 6, tcp.Length);
            BinaryPrimitives.WriteUInt16BigEndian(tcp[16..], InternetChecksum.TcpChecksum(pseudo, tcp));
        }
    }

    private PacketDropReason Dispatch(byte[] packet) => _dispatcher.OnPacket(packet, 42);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ValidSyn_IsDelivered_WithTheStackAsLocal(bool v6)
    {
        Assert.Equal(PacketDropReason.None, Dispatch(TestPackets.FromPeer(v6, TestPackets.Syn())));
        var (flow, header, payload, now) = Assert.Single(_input.Segments);
        Assert.Equal(TestPackets.StackFlow(v6), flow);
        Assert.Equal(TcpFlags.Syn, header.Flags);
        Assert.Equal(1460, header.Options.Mss);
        Assert.Empty(payload);
        Assert.Equal(42u, now);
        Assert.Equal(1, _counters.PacketsIn);
        Assert.Equal(0, _counters.Dropped);
    }

    public static TheoryData<bool, string, string> Hostile => new()
    {
        { false, "bad-tcp-checksum", nameof(PacketDropReason.BadTcpChecksum) },
        { true, "bad-tcp-checksum", nameof(PacketDropReason.BadTcpChecksum) },
        { false, "bad-ip-checksum", nameof(PacketDropReason.BadIpChecksum) },
        { false, "fragment", nameof(PacketDropReason.Fragment) },
        { true, "fragment", nameof(PacketDropReason.Fragment) },
        { false, "udp", nameof(PacketDropReason.NotTcp) },
        { true, "udp", nameof(PacketDropReason.NotTcp) },
        { false, "not-ours", nameof(PacketDropReason.NotOurAddress) },
        { true, "not-ours", nameof(PacketDropReason.NotOurAddress) },
        { false, "martian", nameof(PacketDropReason.MartianSource) },
        { true, "martian", nameof(PacketDropReason.MartianSource) },
        { false, "forged-option", nameof(PacketDropReason.BadOptions) },
        { true, "forged-option", nameof(PacketDropReason.BadOptions) },
        { false, "data-offset", nameof(PacketDropReason.BadTcpHeader) },
        { false, "port-zero", nameof(PacketDropReason.BadTcpHeader) },
        { false, "truncated", nameof(PacketDropReason.Truncated) },
        { true, "truncated", nameof(PacketDropReason.Truncated) },
        { false, "version", nameof(PacketDropReason.BadVersion) },
        { false, "short-tcp", nameof(PacketDropReason.Truncated) },
    };

    [Theory]
    [MemberData(nameof(Hostile))]
    public void HostilePackets_AreDroppedUnderOneReason(bool v6, string kind, string expectedReason)
    {
        var expected = Enum.Parse<PacketDropReason>(expectedReason);
        var packet = TestPackets.FromPeer(v6, TestPackets.Syn(), [1, 2, 3, 4]);
        int ip = v6 ? 40 : 20;
        switch (kind)
        {
            case "bad-tcp-checksum":
                packet[^1] ^= 1;
                break;
            case "bad-ip-checksum":
                packet[8] ^= 1;
                break;
            case "fragment" when v6:
                packet[6] = 44;
                break;
            case "fragment":
                packet[6] |= 0x20;
                FixChecksums(packet);
                break;
            case "udp" when v6:
                packet[6] = 17;
                break;
            case "udp":
                packet[9] = 17;
                FixChecksums(packet);
                break;
            case "not-ours":
                packet[ip - 1] ^= 0x10;
                FixChecksums(packet);
                break;
            case "martian" when v6:
                IPAddress.Parse("ff02::1").GetAddressBytes().CopyTo(packet, 8);
                FixChecksums(packet);
                break;
            case "martian":
                packet[12] = 127;
                FixChecksums(packet);
                break;
            case "forged-option":
                packet[ip + 20 + 1] = 1; // MSS length 1
                FixChecksums(packet);
                break;
            case "data-offset":
                packet[ip + 12] = 4 << 4;
                FixChecksums(packet);
                break;
            case "port-zero":
                packet[ip] = packet[ip + 1] = 0;
                FixChecksums(packet);
                break;
            case "truncated":
                packet = packet[..^1];
                break;
            case "version":
                packet[0] = 0x55;
                break;
            case "short-tcp":
                packet = packet[..(ip + 19)];
                BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), (ushort)packet.Length);
                packet[10] = packet[11] = 0;
                BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(10), InternetChecksum.Checksum(packet.AsSpan(0, 20)));
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(kind));
        }

        Assert.Equal(expected, Dispatch(packet));
        Assert.Empty(_input.Segments);
        Assert.Equal(1, _counters.DropsOf(expected));
        Assert.Equal(1, _counters.Dropped);
    }

    [Fact]
    public void EmptyPacket_IsTruncated()
    {
        Assert.Equal(PacketDropReason.Truncated, _dispatcher.OnPacket([], 0));
        Assert.Equal(1, _counters.Dropped);
    }

    [Fact]
    public void RandomBytes_NeverThrow_AndAreCountedOnce()
    {
        Gen.Byte.Array[0, 1600].Sample(packet =>
        {
            long before = _counters.Dropped + _input.Segments.Count;
            _dispatcher.OnPacket(packet, 1);
            Assert.Equal(before + 1, _counters.Dropped + _input.Segments.Count);
        }, iter: 5000, threads: 1);
        Assert.Equal(_counters.PacketsIn, _counters.Dropped + _input.Segments.Count);
    }

    [Fact]
    public void RandomMutationsOfValidPackets_NeverThrow_AndAreCountedOnce()
    {
        var originals = new[]
        {
            TestPackets.FromPeer(false, TestPackets.Syn()),
            TestPackets.FromPeer(true, TestPackets.Syn()),
            TestPackets.FromPeer(false, TestPackets.Data(3), new byte[100]),
            TestPackets.FromPeer(true, TestPackets.Data(2), new byte[7]),
        };
        var gen = Gen.Select(Gen.Int[0, originals.Length - 1], Gen.Int[1, 8].SelectMany(n => Gen.Select(Gen.Int[0, 200], Gen.Byte).Array[n]), Gen.Int[0, 3], Gen.Bool);
        gen.Sample((which, edits, cut, fix) =>
        {
            var packet = (byte[])originals[which].Clone();
            foreach (var (position, value) in edits)
            {
                packet[position % packet.Length] = value;
            }

            if (cut > 0)
            {
                packet = packet[..Math.Max(0, packet.Length - (cut * 13))];
            }

            // Half the time, repair the checksums so the mutation reaches the TCP header and option parsers.
            if (fix && packet.Length >= 60 && (packet[0] >> 4 == 6 || (packet[0] >> 4 == 4 && (packet[0] & 0x0F) * 4 <= packet.Length - 20)))
            {
                FixChecksums(packet);
            }

            long before = _counters.Dropped + _input.Segments.Count;
            _dispatcher.OnPacket(packet, 1);
            Assert.Equal(before + 1, _counters.Dropped + _input.Segments.Count);
        }, iter: 20000, threads: 1);
        Assert.True(_counters.BadOptions + _counters.BadTcpHeader > 0);
        Assert.True(_input.Segments.Count > 0);
    }
}
