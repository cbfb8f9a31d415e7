using KcpKestrel.Core.Arq;
using KcpKestrel.Core.Fec;
using KcpKestrel.Transport.Kcp.Sessions;
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

    [Fact]
    public void RebuiltCloseSignal_EndsTheSession_WhileTheDecoderStillRebuildsItsGroup()
    {
        var pair = new SessionPair(o =>
        {
            o.DataShards = 3;
            o.ParityShards = 2;
        });
        var session = pair.Server.Session;
        var encoder = new FecEncoder(3, 2, headerOffset: 0);

        // Data shards: the close signal, then two WINS; only the last and the parity arrive, so the close signal
        // is rebuilt first and ends the session (releasing what it holds) in the middle of the group's rebuild.
        _ = Datagram(encoder, wnd: 0, out _, (KcpCommand)KcpSession.CloseCommand);
        _ = Datagram(encoder, wnd: 10, out _);
        var last = Datagram(encoder, wnd: 20, out var parityReady);
        Assert.Equal(2, parityReady);
        var parity = new[] { encoder.GetParityPacket(0, out var l0)[..l0].ToArray(), encoder.GetParityPacket(1, out var l1)[..l1].ToArray() };

        session.OnPacket(last, pair.Now, last.Length);
        session.OnPacket(parity[0], pair.Now, parity[0].Length);
        session.OnPacket(parity[1], pair.Now, parity[1].Length);

        Assert.Equal(KcpCloseReason.RemoteClose, session.CloseReason);
        Assert.Equal(0, session.ReceiveHeld);
    }

    private static byte[] Datagram(FecEncoder encoder, ushort wnd, out int parityReady, KcpCommand cmd = KcpCommand.WindowTell)
    {
        var packet = new byte[FecPacket.HeaderSizePlusSize + SegmentHeader.Size];
        new SegmentHeader(7, cmd, 0, wnd, 0, 0, 0, 0).Write(packet.AsSpan(FecPacket.HeaderSizePlusSize));
        parityReady = encoder.Encode(packet, packet.Length, 0);
        return packet;
    }
}
