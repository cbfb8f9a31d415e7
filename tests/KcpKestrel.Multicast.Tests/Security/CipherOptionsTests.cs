namespace KcpKestrel.Multicast.Tests.Security;

/// <summary>The cipher and FEC settings' ranges and rules.</summary>
public sealed class CipherOptionsTests
{
    [Theory]
    [InlineData("aes")]
    [InlineData("salsa20")]
    [InlineData("null")]
    [InlineData("AES-128-GCM")]
    public void CryptNotAead_ThrowsSayingWhy(string crypt)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(new MulticastOptions { Crypt = crypt, Key = "k" }.Validate);
        Assert.Equal(nameof(MulticastOptions.Crypt), error.ParamName);
        Assert.Contains("AEAD", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CryptWithoutKey_ThrowsNamingKey()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(new MulticastOptions { Crypt = "aes-128-gcm" }.Validate);
        Assert.Equal(nameof(MulticastOptions.Key), error.ParamName);
    }

    [Theory]
    [InlineData(10, 0)]
    [InlineData(0, 3)]
    [InlineData(200, 57)]
    [InlineData(-1, 3)]
    public void ShardsNotBothOnOrBothOff_Throws(int dataShards, int parityShards) =>
        Assert.Throws<ArgumentOutOfRangeException>(new MulticastOptions { DataShards = dataShards, ParityShards = parityShards }.Validate);

    [Fact]
    public void Defaults_NoCipherNoFec_Valid()
    {
        var options = new MulticastOptions();
        options.Validate();
        Assert.Equal(("none", 0, 0), (options.Crypt, options.DataShards, options.ParityShards));
        new MulticastOptions { Crypt = "chacha20-poly1305", Key = "k", DataShards = 10, ParityShards = 3 }.Validate();
    }
}
