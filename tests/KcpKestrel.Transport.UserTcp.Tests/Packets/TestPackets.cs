using System.Net;
using KcpKestrel.Transport.UserTcp.Packets;
using KcpKestrel.Transport.UserTcp.Tcp;

namespace KcpKestrel.Transport.UserTcp.Tests.Packets;

/// <summary>Builds whole IP packets for the packet-layer tests.</summary>
internal static class TestPackets
{
    public static readonly IPEndPoint StackV4 = new(IPAddress.Parse("10.77.0.1"), 8080);
    public static readonly IPEndPoint PeerV4 = new(IPAddress.Parse("10.77.0.2"), 40000);
    public static readonly IPEndPoint StackV6 = new(IPAddress.Parse("fd00:77::1"), 8080);
    public static readonly IPEndPoint PeerV6 = new(IPAddress.Parse("fd00:77::2"), 40000);

    /// <summary>The flow as the stack sees it (local = the stack).</summary>
    public static TcpFlowKey StackFlow(bool v6) => v6 ? TcpFlowKey.From(StackV6, PeerV6) : TcpFlowKey.From(StackV4, PeerV4);

    /// <summary>The flow as the peer sees it: what the peer's writer sends to the stack.</summary>
    public static TcpFlowKey PeerFlow(bool v6) => v6 ? TcpFlowKey.From(PeerV6, StackV6) : TcpFlowKey.From(PeerV4, StackV4);

    public static UInt128[] StackAddresses => [TcpFlowKey.ToUInt128(StackV4.Address), TcpFlowKey.ToUInt128(StackV6.Address)];

    /// <summary>A packet from the peer to the stack.</summary>
    public static byte[] FromPeer(bool v6, in TcpHeader header, ReadOnlySpan<byte> payload = default)
    {
        var buffer = new byte[65535];
        ushort id = 7;
        int length = PacketWriter.Write(buffer, PeerFlow(v6), header, payload, default, ref id);
        return buffer.AsSpan(0, length).ToArray();
    }

    public static TcpHeader Syn()
    {
        var header = new TcpHeader { Seq = 1000, Flags = TcpFlags.Syn, Window = 64240 };
        header.Options.Mss = 1460;
        header.Options.SackPermitted = true;
        header.Options.HasTimestamps = true;
        header.Options.TsVal = 12345;
        header.Options.HasWindowScale = true;
        header.Options.WindowScale = 7;
        return header;
    }

    public static TcpHeader Data(int sackBlocks = 0)
    {
        var header = new TcpHeader { Seq = 5000, Ack = 9000, Flags = TcpFlags.Ack | TcpFlags.Psh, Window = 501 };
        header.Options.HasTimestamps = true;
        header.Options.TsVal = 77;
        header.Options.TsEcr = 66;
        header.Options.SackCount = (byte)sackBlocks;
        for (int i = 0; i < sackBlocks; i++)
        {
            header.Options.Sack[i] = new SackBlock((uint)(10000 + (i * 3000)), (uint)(11000 + (i * 3000)));
        }

        return header;
    }
}
