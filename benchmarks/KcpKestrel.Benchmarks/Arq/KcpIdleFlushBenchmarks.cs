using BenchmarkDotNet.Attributes;
using KcpKestrel.Core.Arq;

namespace KcpKestrel.Benchmarks.Arq;

/// <summary>One flush of each of 5,000 idle control blocks (the timer-wheel sweep of an idle server).</summary>
[MemoryDiagnoser]
public class KcpIdleFlushBenchmarks
{
    private const int Sessions = 5000;
    private readonly KcpControlBlock[] _sessions = new KcpControlBlock[Sessions];
    private uint _now;

    [GlobalSetup]
    public void Setup()
    {
        var sink = new Sink();
        for (var i = 0; i < Sessions; i++)
        {
            _sessions[i] = new KcpControlBlock((uint)i, sink);
            KcpNoDelayPreset.Fast3.ApplyTo(_sessions[i]);
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var kcp in _sessions)
        {
            kcp.Dispose();
        }
    }

    [Benchmark(OperationsPerInvoke = Sessions)]
    public uint FlushIdle()
    {
        _now += 10;
        uint sum = 0;
        foreach (var kcp in _sessions)
        {
            sum += kcp.FlushAt(_now);
        }

        return sum;
    }

    private sealed class Sink : IKcpOutput
    {
        public void Output(Span<byte> buffer)
        {
        }
    }
}
