using BenchmarkDotNet.Attributes;
using KcpKestrel.Protocols.Qpp;

namespace KcpKestrel.Benchmarks.Crypto;

/// <summary>
/// kcptun's QPP per stream write: encrypt, and decrypt back, one buffer in place with kcptun's
/// default 61 pads. MB/s = Size / time. Go's figure for the same work: tests/GoVectors/qpp's
/// "bench SIZE ROUNDS" mode (qpp v1.1.25).
/// </summary>
[MemoryDiagnoser]
public class QppBenchmarks
{
    private QppPad _pad = null!;
    private byte[] _data = null!;
    private QppRandom _write;
    private QppRandom _read;

    [Params(1350, 65536)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _pad = new QppPad("it's a secrect"u8);
        _data = new byte[Size];
        new Random(1).NextBytes(_data);
        _write = _pad.Start;
        _read = _pad.Start;
    }

    [Benchmark]
    public byte Encrypt()
    {
        _pad.Encrypt(_data, _data, ref _write);
        return _data[0];
    }

    [Benchmark]
    public byte Decrypt()
    {
        _pad.Decrypt(_data, _data, ref _read);
        return _data[0];
    }
}
