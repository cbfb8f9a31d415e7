using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using KcpKestrel.Core.Crypto;

namespace KcpKestrel.Benchmarks.Crypto;

/// <summary>
/// A forged 1400-byte aes-256-gcm datagram on the path without AES-NI (.NET's AesGcm), before and after
/// <see cref="AesGcmTag"/>: AesGcm.Decrypt throwing and the exception caught, as the cipher did, against
/// the tag computed first and compared.
/// </summary>
[MemoryDiagnoser]
public class ForgedAesGcmFallbackBenchmarks
{
    private readonly byte[] _forged = new byte[1400];
    private readonly byte[] _plain = new byte[1400 - AeadPacketCipher.NonceSize - AeadPacketCipher.TagSize];
    private AesGcm _gcm = null!;
    private PacketCipher _receiver = null!;

    [GlobalSetup]
    public void Setup()
    {
        var key = PacketCipherFactory.DeriveKey("benchmark");
        _gcm = new AesGcm(key, AeadPacketCipher.TagSize);
        _receiver = AeadPacketCipher.Aes256Gcm(key, aesNi: false);
        new Random(7).NextBytes(_forged);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _gcm.Dispose();
        _receiver.Dispose();
    }

    [Benchmark(Baseline = true)]
    public bool ThrowingDecrypt()
    {
        var datagram = _forged.AsSpan();
        try
        {
            _gcm.Decrypt(datagram[..AeadPacketCipher.NonceSize], datagram[AeadPacketCipher.NonceSize..^AeadPacketCipher.TagSize], datagram[^AeadPacketCipher.TagSize..], _plain);
            return true;
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    [Benchmark]
    public bool TagFirst() => _receiver.Open(_forged, out _, out _) == CipherResult.Ok;
}
