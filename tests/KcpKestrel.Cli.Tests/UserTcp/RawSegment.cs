using System.Buffers.Binary;
using System.Net;

namespace KcpKestrel.Cli.Tests.UserTcp;

/// <summary>
/// One IPv4 TCP segment built byte by byte for the hostile-packet tests, checksums computed here (independently of
/// the stack's own code), then spoiled on request: a wrong IP or TCP checksum, fragment bits, forged options.
/// </summary>
internal sealed record RawSegment
{
    public const byte Fin = 0x01;
    public const byte Syn = 0x02;
    public const byte Rst = 0x04;
    public const byte Psh = 0x08;
    public const byte Ack = 0x10;

    public required IPAddress Source { get; init; }

    public IPAddress Destination { get; init; } = IPAddress.Parse(UserTcpServe.Address);

    public required ushort SourcePort { get; init; }

    public ushort DestinationPort { get; init; } = UserTcpServe.Port;

    public uint Sequence { get; init; }

    public uint Acknowledgment { get; init; }

    public byte Flags { get; init; }

    public ushort Window { get; init; } = 65535;

    /// <summary>Raw option bytes, padded here to a multiple of four with EOL.</summary>
    public byte[] Options { get; init; } = [];

    public byte[] Payload { get; init; } = [];

    public bool SpoilTcpChecksum { get; init; }

    public bool SpoilIpChecksum { get; init; }

    /// <summary>IPv4 flags and fragment offset (in 8-byte units), e.g. 0x2000 for more-fragments.</summary>
    public ushort FragmentField { get; init; } = 0x4000;

    /// <summary>Overrides the data offset (in 32-bit words); 0 derives it from the options.</summary>
    public int DataOffsetWords { get; init; }

    /// <summary>The MSS option.</summary>
    public static byte[] Mss(ushort mss) => [2, 4, (byte)(mss >> 8), (byte)mss];

    /// <summary>The window-scale option.</summary>
    public static byte[] WindowScale(byte shift) => [1, 3, 3, shift];

    public byte[] ToArray()
    {
        var optionLength = (Options.Length + 3) & ~3;
        var tcpLength = 20 + optionLength + Payload.Length;
        var packet = new byte[20 + tcpLength];
        var ip = packet.AsSpan(0, 20);
        ip[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)packet.Length);
        BinaryPrimitives.WriteUInt16BigEndian(ip[4..], (ushort)Random.Shared.Next(65536));
        BinaryPrimitives.WriteUInt16BigEndian(ip[6..], FragmentField);
        ip[8] = 64;
        ip[9] = 6;
        Source.TryWriteBytes(ip[12..16], out _);
        Destination.TryWriteBytes(ip[16..20], out _);
        BinaryPrimitives.WriteUInt16BigEndian(ip[10..], (ushort)(Checksum(ip, 0) ^ (SpoilIpChecksum ? 0x5a5a : 0)));

        var tcp = packet.AsSpan(20);
        BinaryPrimitives.WriteUInt16BigEndian(tcp, SourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(tcp[2..], DestinationPort);
        BinaryPrimitives.WriteUInt32BigEndian(tcp[4..], Sequence);
        BinaryPrimitives.WriteUInt32BigEndian(tcp[8..], Acknowledgment);
        tcp[12] = (byte)((DataOffsetWords > 0 ? DataOffsetWords : 5 + (optionLength / 4)) << 4);
        tcp[13] = Flags;
        BinaryPrimitives.WriteUInt16BigEndian(tcp[14..], Window);
        Options.CopyTo(tcp[20..]);
        Payload.CopyTo(tcp[(20 + optionLength)..]);

        // The pseudo-header: source, destination, zero, protocol, TCP length.
        uint pseudo = 6u + (uint)tcpLength;
        pseudo += Sum(ip[12..20]);
        BinaryPrimitives.WriteUInt16BigEndian(tcp[16..], (ushort)(Checksum(tcp, pseudo) ^ (SpoilTcpChecksum ? 0x1234 : 0)));
        return packet;
    }

    /// <summary>The sequence number of a received segment (IPv4, at its IHL).</summary>
    public static uint SequenceOf(byte[] packet) => BinaryPrimitives.ReadUInt32BigEndian(packet.AsSpan(((packet[0] & 0xf) * 4) + 4));

    /// <summary>The acknowledgment number of a received segment.</summary>
    public static uint AcknowledgmentOf(byte[] packet) => BinaryPrimitives.ReadUInt32BigEndian(packet.AsSpan(((packet[0] & 0xf) * 4) + 8));

    /// <summary>The flags of a received segment.</summary>
    public static byte FlagsOf(byte[] packet) => packet[((packet[0] & 0xf) * 4) + 13];

    /// <summary>The destination port of a received segment.</summary>
    public static ushort DestinationPortOf(byte[] packet) => BinaryPrimitives.ReadUInt16BigEndian(packet.AsSpan(((packet[0] & 0xf) * 4) + 2));

    /// <summary>The TCP payload length of a received segment.</summary>
    public static int PayloadLengthOf(byte[] packet)
    {
        var ihl = (packet[0] & 0xf) * 4;
        return BinaryPrimitives.ReadUInt16BigEndian(packet.AsSpan(2)) - ihl - ((packet[ihl + 12] >> 4) * 4);
    }

    private static uint Sum(ReadOnlySpan<byte> data)
    {
        uint sum = 0;
        for (var i = 0; i + 1 < data.Length; i += 2)
        {
            sum += BinaryPrimitives.ReadUInt16BigEndian(data[i..]);
        }

        if ((data.Length & 1) != 0)
        {
            sum += (uint)data[^1] << 8;
        }

        return sum;
    }

    private static ushort Checksum(ReadOnlySpan<byte> data, uint initial)
    {
        var sum = initial + Sum(data);
        while (sum > 0xffff)
        {
            sum = (sum & 0xffff) + (sum >> 16);
        }

        return (ushort)~sum;
    }
}
