using KcpKestrel.Core.Crypto;

namespace KcpKestrel.Core.Tests.Crypto;

public sealed class PacketCipherFactoryTests
{
    [Fact]
    public void Names_AreKcptunsPlusOurs()
    {
        Assert.Equal(
            ["aes", "aes-128", "aes-192", "salsa20", "blowfish", "twofish", "cast5", "3des", "tea", "xtea", "xor", "sm4", "none", "null", "aes-128-gcm", "aes-256-gcm", "chacha20-poly1305"],
            PacketCipherFactory.Names);
    }

    [Fact]
    public void UnknownName_ThrowsArgumentException_ListingNames()
    {
        var ex = Assert.Throws<ArgumentException>(() => PacketCipherFactory.Create("rot13", "k"));
        Assert.Contains("rot13", ex.Message, StringComparison.Ordinal);
        foreach (var name in PacketCipherFactory.Names)
        {
            Assert.Contains(name, ex.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("aes", 20, 0, false, 32)]
    [InlineData("aes-128", 20, 0, false, 16)]
    [InlineData("aes-192", 20, 0, false, 24)]
    [InlineData("salsa20", 20, 0, false, 32)]
    [InlineData("blowfish", 20, 0, false, 32)]
    [InlineData("twofish", 20, 0, false, 32)]
    [InlineData("cast5", 20, 0, false, 16)]
    [InlineData("3des", 20, 0, false, 24)]
    [InlineData("tea", 20, 0, false, 16)]
    [InlineData("xtea", 20, 0, false, 16)]
    [InlineData("xor", 20, 0, false, 32)]
    [InlineData("sm4", 20, 0, false, 16)]
    [InlineData("none", 20, 0, false, 32)]
    [InlineData("null", 0, 0, false, 32)]
    [InlineData("aes-128-gcm", 12, 16, true, 16)]
    [InlineData("aes-256-gcm", 12, 16, true, 32)]
    [InlineData("chacha20-poly1305", 12, 16, true, 32)]
    public void Create_GivesModeShape(string name, int header, int trailer, bool authenticated, int keySize)
    {
        using var cipher = PacketCipherFactory.Create(name, "secret");
        Assert.Equal(name, cipher.Name);
        Assert.Equal(header, cipher.HeaderSize);
        Assert.Equal(trailer, cipher.TrailerSize);
        Assert.Equal(authenticated, cipher.IsAuthenticated);
        Assert.Equal(keySize, PacketCipherFactory.KeySize(name));
    }

    [Fact]
    public void Seal_WithTooSmallSpan_ThrowsForCallerBug()
    {
        using var cipher = PacketCipherFactory.Create("aes-256-gcm", "k");
        Assert.Throws<ArgumentException>(() => cipher.Seal(new byte[12 + 10 + 15], 10));
    }

    [Fact]
    public void NonceGenerator_NeverRepeats()
    {
        using var g = new NonceGenerator();
        var seen = new HashSet<UInt128>();
        Span<byte> nonce = stackalloc byte[16];
        for (var i = 0; i < 100_000; i++)
        {
            g.Fill(nonce);
            Assert.True(seen.Add(BitConverter.ToUInt128(nonce)));
        }
    }
}
