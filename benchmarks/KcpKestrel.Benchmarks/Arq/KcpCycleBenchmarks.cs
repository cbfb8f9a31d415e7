using BenchmarkDotNet.Attributes;
using KcpKestrel.Core.Arq;

namespace KcpKestrel.Benchmarks.Arq;

/// <summary>
/// send → flush → input → receive of one 1400-byte payload between two engines joined back to back (the
/// same shape as tests/GoVectors/kcpbench on kcp-go).
/// </summary>
[MemoryDiagnoser]
public class KcpCycleBenchmarks
{
    private readonly byte[] _payload = new byte[1400];
    private readonly byte[] _buffer = new byte[4096];
    private Link _toB = null!;
    private Link _toA = null!;
    private KcpControlBlock _a = null!;
    private KcpControlBlock _b = null!;
    private uint _now;

    [GlobalSetup]
    public void Setup()
    {
        _toB = new Link();
        _toA = new Link();
        _a = new KcpControlBlock(1, _toB);
        _b = new KcpControlBlock(1, _toA);
        _toB.Target = _b;
        _toA.Target = _a;
        foreach (var kcp in new[] { _a, _b })
        {
            KcpNoDelayPreset.Fast3.ApplyTo(kcp);
            kcp.SetWindowSize(1024, 1024);
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _a.Dispose();
        _b.Dispose();
    }

    [Benchmark]
    public int SendFlushInputReceive()
    {
        _now++;
        _toA.Now = _toB.Now = _now;
        _a.Send(_payload);
        _a.FlushAt(_now);
        _b.FlushAt(_now);
        return _b.Receive(_buffer);
    }

    private sealed class Link : IKcpOutput
    {
        public KcpControlBlock? Target { get; set; }

        public uint Now { get; set; }

        public void Output(Span<byte> buffer) => Target!.Input(buffer, Now);
    }
}
