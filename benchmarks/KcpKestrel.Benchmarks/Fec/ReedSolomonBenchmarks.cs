using BenchmarkDotNet.Attributes;
using KcpKestrel.Core.Fec;

namespace KcpKestrel.Benchmarks.Fec;

/// <summary>
/// Reed-Solomon 10+3 over 1400-byte shards (kcp-go's usual FEC shape at a full mtu): encode, and
/// rebuild 3 lost data shards. Throughput in BenchmarkDotNet terms: 10 x 1400 data bytes per op.
/// Compare with tests/GoVectors/rsbench (klauspost) run in the same sitting.
/// </summary>
[MemoryDiagnoser]
public class ReedSolomonBenchmarks
{
    private const int DataShards = 10;
    private const int ParityShards = 3;
    private const int ShardSize = 1400;

    private readonly bool[] _present = new bool[DataShards + ParityShards];
    private byte[][] _shards = [];
    private ReedSolomon _codec = null!;

    [Params("Scalar", "Avx2", "Avx512BW", "Gfni")]
    public string Kernel { get; set; } = "Gfni";

    [GlobalSetup]
    public void Setup()
    {
        var kernel = Enum.Parse<GfKernel>(Kernel);
        _codec = new ReedSolomon(DataShards, ParityShards, GaloisKernels.IsSupported(kernel) ? kernel : GfKernel.Scalar);
        _shards = new byte[DataShards + ParityShards][];
        var rng = new Random(1);
        for (var i = 0; i < _shards.Length; i++)
        {
            _shards[i] = new byte[ShardSize];
            rng.NextBytes(_shards[i]);
        }

        _codec.Encode(_shards, 0, ShardSize);
        Array.Fill(_present, true);
        _present[1] = _present[4] = _present[8] = false;
    }

    [Benchmark]
    public void Encode() => _codec.Encode(_shards, 0, ShardSize);

    [Benchmark]
    public bool Reconstruct3Lost() => _codec.ReconstructData(_shards, _present, 0, ShardSize);
}
