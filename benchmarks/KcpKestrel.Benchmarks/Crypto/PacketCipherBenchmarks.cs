using BenchmarkDotNet.Attributes;
using KcpKestrel.Core.Crypto;

namespace KcpKestrel.Benchmarks.Crypto;

/// <summary>
/// Seal + Open of one 1400-byte datagram per mode, the same work kcp-go's benchCrypt does
/// (Encrypt + Decrypt of mtuLimit bytes), with the header, CRC and nonce on top.
/// MB/s = 2 * 1400 bytes / mean time, as Go's b.SetBytes(2 * len) counts.
/// </summary>
[MemoryDiagnoser]
public class PacketCipherBenchmarks
{
    private const int DatagramSize = 1400;
    private readonly byte[] _buffer = new byte[DatagramSize + 64];
    private PacketCipher _sender = null!;
    private PacketCipher _receiver = null!;
    private ReplayWindow _window = null!;
    private int _payloadLength;

    [Params("aes", "aes-128", "aes-192", "salsa20", "blowfish", "twofish", "cast5", "3des", "tea", "xtea", "xor", "sm4", "none", "null", "aes-128-gcm", "aes-256-gcm", "chacha20-poly1305")]
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
