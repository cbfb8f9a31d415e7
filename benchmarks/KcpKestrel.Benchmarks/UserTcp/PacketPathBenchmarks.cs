using System.Net;
using BenchmarkDotNet.Attributes;
using KcpKestrel.Transport.UserTcp.Packets;
using KcpKestrel.Transport.UserTcp.Tcp;

namespace KcpKestrel.Benchmarks.UserTcp;

/// <summary>
/// The packet layer's cost per full-sized segment, without the TCP layer: writing one (IP header, options,
/// payload copy, both checksums) and checking and parsing one (IP checks, TCP checksum, options).
/// </summary>
[MemoryDiagnoser]
public class PacketPathBenchmarks
{
    private readonly byte[] _payload = new byte[1448];
    private readonly byte[] _packet = new byte[1500];
    private PacketWriter _writer = null!;
    private PacketDispatcher _dispatcher = null!;
    private TcpFlowKey _flow;
    private TcpHeader _header;
    private int _packetLength;

    [Params(false, true)]
    public bool IPv6 { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        new Random(1).NextBytes(_payload);
        var stack = IPv6 ? IPAddress.Parse("fd00:77::1") : IPAddress.Parse("10.77.0.1");
        var peer = IPv6 ? IPAddress.Parse("fd00:77::2") : IPAddress.Parse("10.77.0.2");
        _flow = TcpFlowKey.From(new IPEndPoint(peer, 40000), new IPEndPoint(stack, 8080));
        _header = new TcpHeader { Seq = 1, Ack = 2, Flags = TcpFlags.Ack | TcpFlags.Psh, Window = 501 };
        _header.Options.HasTimestamps = true;
        _header.Options.TsVal = 3;
        _header.Options.TsEcr = 4;
        _writer = new PacketWriter(new NullQueue(), 1500, new PacketCounters());
        _dispatcher = new PacketDispatcher([TcpFlowKey.ToUInt128(stack)], new NullInput(), new PacketCounters());
        ushort id = 0;
        _packetLength = PacketWriter.Write(_packet, _flow, _header, _payload.AsSpan(0, IPv6 ? 1428 : 1448), default, ref id);
    }

    [Benchmark]
    public void Write() => _writer.Send(_flow, _header, _payload.AsSpan(0, IPv6 ? 1428 : 1448), default);

    [Benchmark]
    public int Dispatch() => (int)_dispatcher.OnPacket(_packet.AsSpan(0, _packetLength), 0);

    private sealed class NullQueue : IPacketQueue
    {
        public bool Wait(int timeoutMs) => false;

        public void Wake()
        {
        }

        public int TryReceive(Span<byte> buffer) => 0;

        public void Send(ReadOnlySpan<byte> packet)
        {
        }

        public void Dispose()
        {
        }
    }

    private sealed class NullInput : ITcpSegmentInput
    {
        public void OnSegment(in TcpFlowKey flow, in TcpHeader header, ReadOnlySpan<byte> payload, uint now)
        {
        }
    }
}
