using BenchmarkDotNet.Attributes;
using KcpKestrel.Transport.UserTcp.Packets;

namespace KcpKestrel.Benchmarks.UserTcp;

/// <summary>
/// The Internet checksum of one packet (1500 B) and one 64 KiB block: the vectorised sum against a plain scalar
/// one (RFC 1071's loop over 16-bit words), to show what the vectors buy on this machine.
/// </summary>
[MemoryDiagnoser]
public class InternetChecksumBenchmarks
{
    private byte[] _data = [];

    [Params(1500, 65536)]
    public int Length { get; set; } = 1500;

    [GlobalSetup]
    public void Setup()
    {
        _data = new byte[Length];
        new Random(1).NextBytes(_data);
    }

    [Benchmark(Baseline = true)]
    public ushort Scalar()
    {
        var data = _data.AsSpan();
        uint sum = 0;
        int i = 0;
        for (; i + 1 < data.Length; i += 2)
        {
            sum += (uint)((data[i] << 8) | data[i + 1]);
        }

        if (i < data.Length)
        {
            sum += (uint)(data[i] << 8);
        }

        while (sum >> 16 != 0)
        {
            sum = (sum & 0xFFFF) + (sum >> 16);
        }

        return (ushort)sum;
    }

    [Benchmark]
    public ushort Vectorised() => InternetChecksum.Sum(_data);
}
