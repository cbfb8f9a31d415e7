using BenchmarkDotNet.Attributes;
using KcpKestrel.Core.Fec;

namespace KcpKestrel.Benchmarks.Fec;

/// <summary>The FEC packet layer, 10+3 at 1400-byte packets: one group encoded, one group decoded with 3 data shards lost.</summary>
[MemoryDiagnoser]
public class FecPacketBenchmarks
{
    private readonly byte[][] _packets = new byte[10][];
    private readonly byte[][] _wire = new byte[13][];
    private FecEncoder _encoder = null!;
    private FecDecoder _decoder = null!;
    private uint _seqBase;

    [GlobalSetup]
    public void Setup()
    {
        _encoder = new FecEncoder(10, 3, 0);
        _decoder = new FecDecoder(10, 3);
        var rng = new Random(2);
        for (var i = 0; i < 10; i++)
        {
            _packets[i] = new byte[1400];
            rng.NextBytes(_packets[i]);
        }

        using var encoder = new FecEncoder(10, 3, 0);
        for (var i = 0; i < 10; i++)
        {
            var packet = (byte[])_packets[i].Clone();
            var ready = encoder.Encode(packet, packet.Length, 0);
            _wire[i] = packet;
            for (var p = 0; p < ready; p++)
            {
                _wire[10 + p] = encoder.GetParityPacket(p, out _).ToArray();
            }
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _encoder.Dispose();
        _decoder.Dispose();
    }

    [Benchmark]
    public int EncodeGroup()
    {
        var ready = 0;
        for (var i = 0; i < 10; i++)
        {
            ready += _encoder.Encode(_packets[i], _packets[i].Length, 0);
        }

        return ready;
    }

    [Benchmark]
    public int DecodeGroup3Lost()
    {
        // Renumber the captured group so each op is a new group in the window.
        var sink = new CountingSink();
        for (var i = 0; i < 13; i++)
        {
            if (i is 1 or 4 or 8)
            {
                continue;
            }

            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(_wire[i], _seqBase + (uint)i);
            _decoder.Decode(_wire[i], 0, ref sink);
        }

        _seqBase += 13;
        return sink.Count;
    }

    private struct CountingSink : IFecSink
    {
        public int Count;

        public void OnKcpPayload(ReadOnlySpan<byte> kcpBytes, bool recovered) => Count += kcpBytes.Length;
    }
}
