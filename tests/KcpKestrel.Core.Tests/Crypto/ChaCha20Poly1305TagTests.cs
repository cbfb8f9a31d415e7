using System.Security.Cryptography;
using KcpKestrel.Core.Crypto;

namespace KcpKestrel.Core.Tests.Crypto;

/// <summary>The hand-rolled ChaCha20-Poly1305 tag that lets chacha20-poly1305 reject a forgery without an exception.</summary>
public sealed class ChaCha20Poly1305TagTests
{
    [Fact]
    public void Rfc8439_Section2_8_2_AeadVector()
    {
        var key = Convert.FromHexString("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
        var nonce = Convert.FromHexString("070000004041424344454647");
        var aad = Convert.FromHexString("50515253c0c1c2c3c4c5c6c7");
        var ciphertext = Convert.FromHexString(
            "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc3ff4def08e4b7a9de576d26586cec64b6116");
        var tag = new byte[16];
        new ChaCha20Poly1305Tag(key).Compute(nonce, aad, ciphertext, tag);
        Assert.Equal("1ae10b594f09e26a7e902ecbd0600691", Convert.ToHexStringLower(tag));
    }

    [Theory]
    [InlineData(0xFF)]
    [InlineData(0x00)]
    [InlineData(0xFE)]
    public void MatchesPlatformChaCha20Poly1305_OnExtremeBlocks(byte fill)
    {
        // Chosen blocks travel as associated data (the platform MACs them as given): all-ones blocks keep the
        // accumulator near its largest values, where the partial reductions and the final compare with p matter.
        var random = new Random(fill);
        foreach (var length in new[] { 16, 32, 48, 1376, 1500 })
        {
            for (var i = 0; i < 60; i++)
            {
                var key = new byte[32];
                var nonce = new byte[12];
                random.NextBytes(key);
                random.NextBytes(nonce);
                var aad = new byte[length];
                aad.AsSpan().Fill(fill);
                using var platform = new ChaCha20Poly1305(key);
                var expected = new byte[16];
                platform.Encrypt(nonce, ReadOnlySpan<byte>.Empty, Span<byte>.Empty, expected, aad);
                var tag = new byte[16];
                new ChaCha20Poly1305Tag(key).Compute(nonce, aad, ReadOnlySpan<byte>.Empty, tag);
                Assert.Equal(Convert.ToHexString(expected), Convert.ToHexString(tag));
            }
        }
    }

    [Fact]
    public void MatchesPlatformChaCha20Poly1305_SeededRandomInputs()
    {
        var random = new Random(8439);
        var lengths = new List<int> { 0, 1, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 1376, 1400, 1500 };
        for (var i = 0; i < 300; i++)
        {
            lengths.Add(random.Next(0, 1600));
        }

        foreach (var length in lengths)
        {
            var key = new byte[32];
            var nonce = new byte[12];
            var plain = new byte[length];
            var aad = new byte[random.Next(0, 3) == 0 ? random.Next(0, 40) : 0];
            random.NextBytes(key);
            random.NextBytes(nonce);
            random.NextBytes(plain);
            random.NextBytes(aad);

            using var platform = new ChaCha20Poly1305(key);
            var ciphertext = new byte[length];
            var expected = new byte[16];
            platform.Encrypt(nonce, plain, ciphertext, expected, aad);

            var ours = new ChaCha20Poly1305Tag(key);
            var tag = new byte[16];
            ours.Compute(nonce, aad, ciphertext, tag);
            Assert.Equal(Convert.ToHexString(expected), Convert.ToHexString(tag));
            if (aad.Length == 0)
            {
                Assert.True(ours.Verify(nonce, ciphertext, expected));
                expected[random.Next(16)] ^= (byte)(1 << random.Next(8));
                Assert.False(ours.Verify(nonce, ciphertext, expected));
            }
        }
    }

    [Fact]
    public void Cipher_SealsAsThePlatformDoes_AndRejectsEveryBitFlip()
    {
        var key = PacketCipherFactory.DeriveKey("chacha-forgery");
        using var sender = PacketCipherFactory.CreateFromDerivedKey("chacha20-poly1305", key);
        using var receiver = PacketCipherFactory.CreateFromDerivedKey("chacha20-poly1305", key);
        var payload = new byte[200];
        new Random(3).NextBytes(payload);
        var packet = new byte[payload.Length + sender.Overhead];
        payload.CopyTo(packet.AsSpan(sender.HeaderSize));
        var length = sender.Seal(packet, payload.Length);

        for (var bit = 0; bit < length * 8; bit += 7)
        {
            var forged = packet.AsSpan(0, length).ToArray();
            forged[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.Equal(CipherResult.AuthenticationFailed, receiver.Open(forged, out _, out _));
        }

        var good = packet.AsSpan(0, length).ToArray();
        Assert.Equal(CipherResult.Ok, receiver.Open(good, out var offset, out var opened));
        Assert.Equal(payload, good.AsSpan(offset, opened).ToArray());
    }
}

[Collection(AllocationMeasurementCollection.Name)]
public sealed class ForgedDatagramAllocationTests
{
    [Theory]
    [InlineData("chacha20-poly1305")]
    [InlineData("aes-256-gcm")]
    [InlineData("aes-128-gcm")]
    public void OpeningForgeries_AllocatesNothing_AndThrowsNothing(string mode)
    {
        using var receiver = PacketCipherFactory.CreateFromDerivedKey(mode, PacketCipherFactory.DeriveKey("forged"));
        var window = new ReplayWindow();
        var forged = new byte[1400];
        new Random(11).NextBytes(forged);
        var exceptions = 0;
        EventHandler<System.Runtime.ExceptionServices.FirstChanceExceptionEventArgs> count = (_, _) => Interlocked.Increment(ref exceptions);
        var rejected = 0;
        for (var i = 0; i < 2; i++)
        {
            receiver.Open(forged, window, out _, out _);
        }

        AppDomain.CurrentDomain.FirstChanceException += count;
        try
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < 100; i++)
            {
                forged[i] ^= 1;
                rejected += receiver.Open(forged, window, out _, out _) == CipherResult.AuthenticationFailed ? 1 : 0;
            }

            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        finally
        {
            AppDomain.CurrentDomain.FirstChanceException -= count;
        }

        Assert.Equal(100, rejected);
        Assert.Equal(0, exceptions);
    }
}
