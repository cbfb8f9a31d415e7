using BenchmarkDotNet.Attributes;
using KcpKestrel.Core.Crypto;

namespace KcpKestrel.Benchmarks.Crypto;

/// <summary>
/// The AES modes alone (the goals: aes-cfb at kcp-go's speed or better, aes-gcm at twice
/// kcp-go's aes-cfb), so they can be run with more iterations than the all-modes sweep.
/// </summary>
[MemoryDiagnoser]
public class AesPacketCipherBenchmarks
{
    private const int DatagramSize = 1400;
    private readonly byte[] _buffer = new byte[DatagramSize + 64];
    private PacketCipher _sender = null!;
    private PacketCipher _receiver = null!;
    private ReplayWindow _window = null!;
    private int _payloadLength;

    [Params("aes", "aes-128", "aes-128-gcm", "aes-256-gcm")]
    public string Mode { get; set; } = "aes";

    [GlobalSetup]
    public void Setup()
    {
        var key = PacketCipherFactory.DeriveKey("benchmark");
        _sender = PacketCipherFactory.CreateFromDerivedKey(Mode, key);
        _receiver = PacketCipherFactory.CreateFromDerivedKey(Mode, key);
        _window = new ReplayWindow();
        _payloadLength = DatagramSize - _sender.Overhead;
        new Random(1).NextBytes(_buffer);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _sender.Dispose();
        _receiver.Dispose();
    }

    [Benchmark]
    public int SealOpen()
    {
        var n = _sender.Seal(_buffer, _payloadLength);
        _receiver.Open(_buffer.AsSpan(0, n), _window, out _, out var length);
        return length;
    }
}
