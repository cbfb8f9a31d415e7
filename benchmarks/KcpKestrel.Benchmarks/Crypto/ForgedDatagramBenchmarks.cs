using BenchmarkDotNet.Attributes;
using KcpKestrel.Core.Crypto;
using KcpKestrel.Transport.Kcp;
using KcpKestrel.Transport.Kcp.Sessions;

namespace KcpKestrel.Benchmarks.Crypto;

/// <summary>
/// What a forged datagram costs the receiver per mode (issue #18 item 8): <see cref="PacketCipher.Open"/>
/// of random bytes, with the cipher the transport makes (<see cref="KcpCrypt.Create"/>: kcp-go modes carry
/// the payload check and drop most forgeries after a few blocks; AEAD modes fail the tag). A forgery must
/// never cost an exception. "aes-128-gcm/AesGcm" and "aes-256-gcm/AesGcm" force .NET's AesGcm, the path
/// without AES-NI. FORGED_MODES (comma-separated) picks the modes; FORGED_UNCHECKED=1 drops the payload
/// check, so kcp-go modes decrypt the whole datagram and check the CRC, as before it existed.
/// </summary>
[MemoryDiagnoser]
public class ForgedDatagramBenchmarks
{
    private const string PlatformSuffix = "/AesGcm";

    private byte[] _forged = null!;
    private PacketCipher _receiver = null!;
    private ReplayWindow _window = null!;

    public static IEnumerable<string> Modes =>
        Environment.GetEnvironmentVariable("FORGED_MODES") is { Length: > 0 } modes
            ? modes.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            : PacketCipherFactory.Names.Append("aes-128-gcm" + PlatformSuffix).Append("aes-256-gcm" + PlatformSuffix);

    [ParamsSource(nameof(Modes))]
    public string Mode { get; set; } = "aes-256-gcm";

    /// <summary>Datagram bytes: a small request and a full MTU.</summary>
    [Params(100, 1400)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _receiver = Create(Mode);
        if (Environment.GetEnvironmentVariable("FORGED_UNCHECKED") == "1")
        {
            _receiver.PayloadCheck = null;
        }

        _window = new ReplayWindow();
        _forged = new byte[Size];
        new Random(7).NextBytes(_forged);
    }

    [GlobalCleanup]
    public void Cleanup() => _receiver.Dispose();

    [Benchmark]
    public int OpenForged() => (int)_receiver.Open(_forged, _window, out _, out _);

    private static PacketCipher Create(string mode)
    {
        if (!mode.EndsWith(PlatformSuffix, StringComparison.Ordinal))
        {
            return KcpCrypt.Create(new KcpOptions { Crypt = mode, Key = "benchmark" });
        }

        var key = PacketCipherFactory.DeriveKey("benchmark");
        return mode.StartsWith("aes-128-gcm", StringComparison.Ordinal)
            ? AeadPacketCipher.Aes128Gcm(key.AsSpan(0, 16), aesNi: false)
            : AeadPacketCipher.Aes256Gcm(key, aesNi: false);
    }
}
