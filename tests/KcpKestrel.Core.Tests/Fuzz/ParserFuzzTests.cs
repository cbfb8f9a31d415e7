using CsCheck;
using KcpKestrel.Core.Arq;
using KcpKestrel.Core.Crypto;
using KcpKestrel.Core.Fec;

namespace KcpKestrel.Core.Tests.Fuzz;

/// <summary>
/// Random and mutated inputs at every parser of a datagram's way in: the cipher, the FEC decoder and
/// KCP's Input. None may throw, and none may allocate in proportion to a forged length. The normal
/// run feeds a bounded number; set KCPKESTREL_FUZZ_ITERATIONS (e.g. 1000000) for a dedicated run.
/// </summary>
public sealed class ParserFuzzTests
{
    private static readonly long Iterations =
        long.TryParse(Environment.GetEnvironmentVariable("KCPKESTREL_FUZZ_ITERATIONS"), out var n) ? n : 20_000;

    /// <summary>Random bytes, or a valid datagram with a few bytes flipped, cut or extended.</summary>
    private static Gen<byte[]> Inputs(byte[][] seeds) => Gen.OneOf(
        Gen.Byte.Array[0, 1500],
        Gen.Select(Gen.Int[0, seeds.Length - 1], Gen.Int[0, 1499].Array[1, 8], Gen.Byte.Array[8], Gen.Int[-40, 40], (s, positions, values, cut) =>
        {
            var seed = seeds[s];
            var length = Math.Clamp(seed.Length + cut, 0, 1500);
            var bytes = new byte[length];
            seed.AsSpan(0, Math.Min(seed.Length, length)).CopyTo(bytes);
            for (var i = 0; i < positions.Length && length > 0; i++)
            {
                bytes[positions[i] % length] ^= values[i % values.Length];
            }

            return bytes;
        }));

    [Fact]
    public void KcpInput_NeverThrows_StateStaysConsistent()
    {
        var seeds = KcpSeeds();
        using var kcp = new KcpControlBlock(1, new NullOutput());
        kcp.SetWindowSize(128, 128);
        uint now = 1;
        Inputs(seeds).Sample(input =>
        {
            now += 3;
            _ = kcp.Input(input, now);
            kcp.Update(now);
            Span<byte> buffer = stackalloc byte[64 * 1024];
            while (kcp.PeekSize() is > 0 and <= 64 * 1024)
            {
                _ = kcp.Receive(buffer);
            }

            kcp.CheckInvariants();
        }, iter: Iterations, threads: 1);
    }

    [Fact]
    public void FecDecode_NeverThrows_AndHoldsBoundedState()
    {
        var seeds = FecSeeds();
        using var decoder = new FecDecoder(10, 3);
        uint now = 1;
        var sink = new CountingSink();
        Inputs(seeds).Sample(input =>
        {
            now += 1;
            _ = decoder.Decode(input, now, ref sink);
        }, iter: Iterations, threads: 1);

        // Whatever came in, the decoder keeps a bounded window of groups (kcp-go's 3 × (k + m)).
        Assert.True(decoder.DataShards is >= 1 and <= 255);
    }

    [Theory]
    [InlineData("aes")]
    [InlineData("salsa20")]
    [InlineData("xor")]
    [InlineData("none")]
    [InlineData("aes-128-gcm")]
    [InlineData("aes-256-gcm")]
    [InlineData("chacha20-poly1305")]
    public void CipherOpen_NeverThrows_AndForgeriesFail(string crypt)
    {
        using var sealer = PacketCipherFactory.Create(crypt, "fuzz");
        using var opener = PacketCipherFactory.Create(crypt, "fuzz");
        var seeds = new byte[4][];
        for (var i = 0; i < seeds.Length; i++)
        {
            var packet = new byte[sealer.Overhead + 100 * (i + 1)];
            Random.Shared.NextBytes(packet);
            var length = sealer.Seal(packet, packet.Length - sealer.Overhead);
            seeds[i] = packet[..length];
        }

        var window = opener.SupportsReplayWindow ? new ReplayWindow() : null;
        long accepted = 0;
        Inputs(seeds).Sample(input =>
        {
            if (opener.Open(input, window, out _, out _) == CipherResult.Ok)
            {
                accepted++;
            }
        }, iter: Iterations, threads: 1);

        if (opener.IsAuthenticated)
        {
            // Random or mutated datagrams never pass a tag; the untouched seeds may (once each).
            Assert.True(accepted <= seeds.Length, $"{accepted} forged datagrams passed {crypt}");
        }
    }

    [Fact]
    public void ForgedLengths_AllocateNothing()
    {
        using var kcp = new KcpControlBlock(1, new NullOutput());
        using var decoder = new FecDecoder(10, 3);
        var sink = new CountingSink();
        var forged = new byte[64];
        new SegmentHeader(1, KcpCommand.Push, 0, 128, 0, 0, 0, uint.MaxValue).Write(forged);
        var fec = new byte[64];
        fec[4] = 0xF1;
        fec[6] = 0xFF;
        fec[7] = 0xFF;

        // Warm up, then measure windows of 10,000 until one allocates nothing: a one-off allocation (tiered
        // compilation, a runtime cache filled once) may land in a window, an allocation per datagram lands in all.
        _ = kcp.Input(forged, 1);
        _ = decoder.Decode(fec, 1, ref sink);
        long allocated = -1;
        for (var window = 0; window < 5 && allocated != 0; window++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (uint i = 0; i < 10_000; i++)
            {
                _ = kcp.Input(forged, i);
                _ = decoder.Decode(fec, i, ref sink);
            }

            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        }

        Assert.Equal(0, allocated);
    }

    private static byte[][] KcpSeeds()
    {
        var sink = new CapturingOutput();
        using var sender = new KcpControlBlock(1, sink);
        sender.SetWindowSize(128, 128);
        _ = sender.Send(new byte[3000]);
        sender.Update(1);
        var segments = new List<byte[]>(sink.Datagrams);
        var ack = new byte[24];
        new SegmentHeader(1, KcpCommand.Ack, 0, 128, 1, 0, 1, 0).Write(ack);
        segments.Add(ack);
        return [.. segments];
    }

    private static byte[][] FecSeeds()
    {
        var seeds = new List<byte[]>();
        using var encoder = new FecEncoder(10, 3, 0);
        for (var i = 0; i < 10; i++)
        {
            var packet = new byte[8 + 200];
            Random.Shared.NextBytes(packet.AsSpan(8));
            var parity = encoder.Encode(packet, packet.Length, (uint)i);
            seeds.Add(packet);
            for (var p = 0; p < parity; p++)
            {
                seeds.Add(encoder.GetParityPacket(p, out var length)[..length].ToArray());
            }
        }

        return [.. seeds];
    }

    private sealed class NullOutput : IKcpOutput
    {
        public void Output(Span<byte> buffer)
        {
        }
    }

    private sealed class CapturingOutput : IKcpOutput
    {
        public List<byte[]> Datagrams { get; } = [];

        public void Output(Span<byte> buffer) => Datagrams.Add(buffer.ToArray());
    }

    private struct CountingSink : IFecSink
    {
        public long Payloads;

        public void OnKcpPayload(ReadOnlySpan<byte> kcpBytes, bool recovered) => Payloads++;
    }
}
