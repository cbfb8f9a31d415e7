using System.Runtime.ExceptionServices;
using System.Security.Cryptography;
using CsCheck;
using KcpKestrel.Core.Crypto;

namespace KcpKestrel.Core.Tests.Crypto;

/// <summary>AES-GCM without AES-NI (.NET's AesGcm, forced here on an AES-NI machine): the tag is checked before decrypting.</summary>
public sealed class AesGcmTagTests
{
    private static readonly byte[] Derived = PacketCipherFactory.DeriveKey("gcm fallback");

    public static TheoryData<string> GcmModes => new() { "aes-128-gcm", "aes-256-gcm" };

    internal static AeadPacketCipher Platform(string mode) => mode == "aes-128-gcm"
        ? AeadPacketCipher.Aes128Gcm(Derived.AsSpan(0, 16), aesNi: false)
        : AeadPacketCipher.Aes256Gcm(Derived, aesNi: false);

    private static AeadPacketCipher Hardware(string mode) => mode == "aes-128-gcm"
        ? AeadPacketCipher.Aes128Gcm(Derived.AsSpan(0, 16))
        : AeadPacketCipher.Aes256Gcm(Derived);

    /// <summary>Runs <paramref name="action"/> and counts the exceptions thrown on this thread meanwhile, caught or not.</summary>
    internal static int CountExceptions(Action action)
    {
        var thread = Environment.CurrentManagedThreadId;
        var count = 0;
        EventHandler<FirstChanceExceptionEventArgs> handler = (_, _) =>
        {
            if (Environment.CurrentManagedThreadId == thread)
            {
                count++;
            }
        };
        AppDomain.CurrentDomain.FirstChanceException += handler;
        try
        {
            action();
        }
        finally
        {
            AppDomain.CurrentDomain.FirstChanceException -= handler;
        }

        return count;
    }

    [Fact]
    public void Compute_EqualsThePlatformTag_AnyKeyAndLength()
    {
        Gen.Select(Gen.OneOfConst(16, 24, 32).SelectMany(n => Gen.Byte.Array[n]), Gen.Byte.Array[12], Gen.Byte.Array[0, 1500]).Sample(
            (key, nonce, plain) =>
            {
                using var gcm = new AesGcm(key, 16);
                var ciphertext = new byte[plain.Length];
                var tag = new byte[16];
                gcm.Encrypt(nonce, plain, ciphertext, tag);
                var computed = new byte[16];
                new AesGcmTag(gcm, key).Compute(nonce, ciphertext, computed);
                return computed.AsSpan().SequenceEqual(tag);
            },
            seed: "7Gq2xLw9Nc4d",
            iter: 300);
    }

    [Theory]
    [MemberData(nameof(GcmModes))]
    public void PlatformGcm_SealsTheAesNiBytes_AndEachOpensTheOther(string mode)
    {
        Assert.True(AesNiGcm.IsSupported, "this suite compares against AES-NI on the test machine");
        using var platform = Platform(mode);
        using var hardware = Hardware(mode);
        var random = new Random(9);
        foreach (var length in new[] { 0, 1, 15, 16, 17, 63, 64, 65, 200, 1372 })
        {
            var payload = new byte[length];
            random.NextBytes(payload);
            var nonce = new byte[AeadPacketCipher.NonceSize];
            random.NextBytes(nonce);
            var a = new byte[length + platform.Overhead];
            var b = new byte[length + hardware.Overhead];
            payload.CopyTo(a, platform.HeaderSize);
            payload.CopyTo(b, hardware.HeaderSize);
            platform.SealWithNonce(a, length, nonce);
            hardware.SealWithNonce(b, length, nonce);
            Assert.Equal(b, a);

            Assert.Equal(CipherResult.Ok, platform.Open(a, out var offset, out var opened));
            Assert.Equal(payload, a.AsSpan(offset, opened).ToArray());
            Assert.Equal(CipherResult.Ok, hardware.Open(b, out offset, out opened));
            Assert.Equal(payload, b.AsSpan(offset, opened).ToArray());
        }
    }

    [Theory]
    [MemberData(nameof(GcmModes))]
    public void PlatformGcm_Forgeries_AreDroppedWithoutAnException(string mode)
    {
        using var sender = Platform(mode);
        using var receiver = Platform(mode);
        var random = new Random(4);
        var payload = new byte[300];
        random.NextBytes(payload);
        var sealedPacket = new byte[payload.Length + sender.Overhead];
        payload.CopyTo(sealedPacket, sender.HeaderSize);
        sender.Seal(sealedPacket, payload.Length);
        var results = new List<CipherResult>();

        var exceptions = CountExceptions(() =>
        {
            for (var length = 0; length <= 1500; length += 7)
            {
                var forged = new byte[length];
                random.NextBytes(forged);
                results.Add(receiver.Open(forged, out _, out _));
            }

            for (var bit = 0; bit < sealedPacket.Length * 8; bit += 5)
            {
                var flipped = (byte[])sealedPacket.Clone();
                flipped[bit / 8] ^= (byte)(1 << (bit % 8));
                results.Add(receiver.Open(flipped, out _, out _));
            }
        });

        Assert.Equal(0, exceptions);
        Assert.All(results, r => Assert.True(r is CipherResult.AuthenticationFailed or CipherResult.TooShort, r.ToString()));
        Assert.Equal(CipherResult.Ok, receiver.Open((byte[])sealedPacket.Clone(), out _, out _));
    }
}

[Collection(AllocationMeasurementCollection.Name)]
public sealed class AesGcmTagAllocationTests
{
    public static TheoryData<string> GcmModes => AesGcmTagTests.GcmModes;

    [Theory]
    [MemberData(nameof(GcmModes))]
    public void PlatformGcm_OpeningForgeries_AllocatesNothing(string mode)
    {
        using var receiver = AesGcmTagTests.Platform(mode);
        var window = new ReplayWindow();
        var forged = new byte[1400];
        new Random(11).NextBytes(forged);
        receiver.Open(forged, window, out _, out _);
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            forged[i] ^= 1;
            receiver.Open(forged, window, out _, out _);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
