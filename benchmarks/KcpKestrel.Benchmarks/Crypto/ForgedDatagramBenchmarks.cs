using BenchmarkDotNet.Attributes;
using KcpKestrel.Core.Crypto;

namespace KcpKestrel.Benchmarks.Crypto;

/// <summary>
/// What a forged datagram costs the receiver per mode (issue #18 item 8): <see cref="PacketCipher.Open"/>
/// of random bytes that fail authentication (AEAD tag, or the CRC under a kcp-go mode's cipher).
/// A forgery must never cost an exception. FORGED_MODES (comma-separated) picks the modes to run.
/// </summary>
[MemoryDiagnoser]
public class ForgedDatagramBenchmarks
{
    private byte[] _forged = null!;
    private PacketCipher _receiver = null!;
    private ReplayWindow _window = null!;

    public static IEnumerable<string> Modes =>
        Environment.GetEnvironmentVariable("FORGED_MODES") is { Length: > 0 } modes
            ? modes.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            : PacketCipherFactory.Names;

    [ParamsSource(nameof(Modes))]
    public string Mode { get; set; } = "aes-256-gcm";

    /// <summary>Datagram bytes: a small request and a full MTU.</summary>
    [Params(100, 1400)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _receiver = PacketCipherFactory.CreateFromDerivedKey(Mode, PacketCipherFactory.DeriveKey("benchmark"));
        _window = new ReplayWindow();
        _forged = new byte[Size];
        new Random(7).NextBytes(_forged);
    }

    [GlobalCleanup]
    public void Cleanup() => _receiver.Dispose();

    [Benchmark]
    public int OpenForged() => (int)_receiver.Open(_forged, _window, out _, out _);
}
