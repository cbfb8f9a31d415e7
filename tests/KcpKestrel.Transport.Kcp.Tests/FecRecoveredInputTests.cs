using KcpKestrel.Core.Arq;
using KcpKestrel.Core.Fec;
using KcpKestrel.Transport.Kcp.Tests.InMemory;

namespace KcpKestrel.Transport.Kcp.Tests;

/// <summary>Packets rebuilt from FEC parity carry stale wnd and ts: KCP takes them as kcp-go does (regular = false).</summary>
public sealed class FecRecoveredInputTests
{
    [Fact]
    public void RecoveredPacket_DoesNotUpdateTheRemoteWindow()
    {
        var pair = new SessionPair(o =>
        {
            o.DataShards = 2;
            o.ParityShards = 1;
        });
        var session = pair.Server.Session;
        var encoder = new FecEncoder(2, 1, headerOffset: 0);

        // Two WINS datagrams: the first (arrives) advertises 100, the second (lost, rebuilt from parity) a stale 0.
        var first = Datagram(encoder, wnd: 100, out _);
        _ = Datagram(encoder, wnd: 0, out var parityReady);
        Assert.Equal(1, parityReady);
        var parity = encoder.GetParityPacket(0, out var parityLength)[..parityLength].ToArray();

        session.OnPacket(first, pair.Now, first.Length);
        Assert.Equal(100, session.Kcp.RemoteWindow);
        session.OnPacket(parity, pair.Now, parity.Length);

        Assert.Equal(2UL, session.Kcp.Statistics.SegmentsIn);
        Assert.Equal(100, session.Kcp.RemoteWindow);
    }

    private static byte[] Datagram(FecEncoder encoder, ushort wnd, out int parityReady)
    {
        var packet = new byte[FecPacket.HeaderSizePlusSize + SegmentHeader.Size];
        new SegmentHeader(7, KcpCommand.WindowTell, 0, wnd, 0, 0, 0, 0).Write(packet.AsSpan(FecPacket.HeaderSizePlusSize));
        parityReady = encoder.Encode(packet, packet.Length, 0);
        return packet;
    }
}
