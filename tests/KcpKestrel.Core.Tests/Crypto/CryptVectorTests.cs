using KcpKestrel.Core.Crypto;
using Org.BouncyCastle.Crypto.Engines;

namespace KcpKestrel.Core.Tests.Crypto;

public sealed class CryptVectorTests
{
    private static readonly byte[] Derived = PacketCipherFactory.DeriveKey(GoCryptVectors.Password);

    public static IEnumerable<object[]> Modes() => GoCryptVectors.Modes();

    [Fact]
    public void Vectors_CoverEveryMode()
    {
        var modes = GoCryptVectors.Vectors.Select(v => v.Mode).Distinct().OrderBy(m => m, StringComparer.Ordinal);
        Assert.Equal(PacketCipherFactory.Names.OrderBy(m => m, StringComparer.Ordinal), modes);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void KeyDerivation_MatchesKcptun(string mode)
    {
        var vector = GoCryptVectors.Vectors.First(v => v.Mode == mode);
        var size = mode == "null" ? 32 : PacketCipherFactory.KeySize(mode);
        Assert.Equal(vector.Key, Derived[..size]);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Seal_WithTheirNonce_EqualsKcpGoBytes(string mode)
    {
        using var cipher = PacketCipherFactory.CreateFromDerivedKey(mode, Derived);
        foreach (var v in GoCryptVectors.Vectors.Where(v => v.Mode == mode))
        {
            var packet = new byte[cipher.Overhead + v.Payload.Length];
            v.Payload.CopyTo(packet, cipher.HeaderSize);
            var n = cipher.SealWithNonce(packet, v.Payload.Length, v.Nonce);
            Assert.Equal(v.Datagram.Length, n);
            Assert.True(v.Datagram.AsSpan().SequenceEqual(packet.AsSpan(0, n)), $"{mode} length {v.Payload.Length}");
        }
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Open_TheirDatagrams_YieldsTheirPayload(string mode)
    {
        using var cipher = PacketCipherFactory.CreateFromDerivedKey(mode, Derived);
        foreach (var v in GoCryptVectors.Vectors.Where(v => v.Mode == mode))
        {
            var datagram = (byte[])v.Datagram.Clone();
            Assert.Equal(CipherResult.Ok, cipher.Open(datagram, out var offset, out var length));
            Assert.Equal(v.Payload, datagram.AsSpan(offset, length).ToArray());
        }
    }

    [Theory]
    [InlineData("aes-256-gcm")]
    [InlineData("chacha20-poly1305")]
    public void Open_TheirAeadDatagrams_ThroughReplayWindow_AcceptsOnce(string mode)
    {
        using var cipher = PacketCipherFactory.CreateFromDerivedKey(mode, Derived);
        foreach (var v in GoCryptVectors.Vectors.Where(v => v.Mode == mode))
        {
            // Each vector has its own sender prefix: one window per sender.
            var window = new ReplayWindow();
            Assert.Equal(CipherResult.Ok, cipher.Open((byte[])v.Datagram.Clone(), window, out _, out _));
            Assert.Equal(BitConverter.ToUInt64(v.Nonce, 4), window.Highest);
            Assert.Equal(CipherResult.Replayed, cipher.Open((byte[])v.Datagram.Clone(), window, out _, out _));
        }
    }

    [Theory]
    [InlineData("aes", 32)]
    [InlineData("aes-128", 16)]
    [InlineData("aes-192", 24)]
    public void SoftwareAes_MatchesHardwareAes_AndKcpGo(string mode, int keySize)
    {
        // The AES-NI engine is what the factory picks here; check the portable fallback too.
        using var cipher = new CfbPacketCipher(mode, new BouncyCastleBlockEngine(new AesEngine(), Derived.AsSpan(0, keySize)));
        foreach (var v in GoCryptVectors.Vectors.Where(v => v.Mode == mode))
        {
            var packet = new byte[cipher.Overhead + v.Payload.Length];
            v.Payload.CopyTo(packet, cipher.HeaderSize);
            cipher.SealWithNonce(packet, v.Payload.Length, v.Nonce);
            Assert.Equal(v.Datagram, packet);
            Assert.Equal(CipherResult.Ok, cipher.Open(packet, out _, out _));
        }
    }
}
