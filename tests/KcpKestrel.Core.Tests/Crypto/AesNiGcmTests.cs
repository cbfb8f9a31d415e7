using System.Security.Cryptography;
using CsCheck;
using KcpKestrel.Core.Crypto;

namespace KcpKestrel.Core.Tests.Crypto;

public sealed class AesNiGcmTests
{
    [Fact]
    public void MatchesPlatformAesGcm_AnyLengthAndKey()
    {
        Assert.True(AesNiGcm.IsSupported, "this suite expects AES-NI + PCLMULQDQ on the test machine");
        Gen.Select(Gen.OneOfConst(16, 24, 32).SelectMany(n => Gen.Byte.Array[n]), Gen.Byte.Array[12], Gen.Byte.Array[0, 1500]).Sample(
            (key, nonce, plain) =>
            {
                using var ours = new AesNiGcm(key);
                using var theirs = new AesGcm(key, 16);
                var a = (byte[])plain.Clone();
                var tagA = new byte[16];
                ours.Seal(nonce, a, tagA);
                var b = new byte[plain.Length];
                var tagB = new byte[16];
                theirs.Encrypt(nonce, plain, b, tagB);
                if (!a.AsSpan().SequenceEqual(b) || !tagA.AsSpan().SequenceEqual(tagB))
                {
                    return false;
                }

                return ours.Open(nonce, a, tagA) && a.AsSpan().SequenceEqual(plain);
            },
            seed: "5Qm8rTz0Ka3b",
            iter: 300);
    }

    [Fact]
    public void Open_BadTag_LeavesCiphertextUntouched()
    {
        using var gcm = new AesNiGcm(new byte[16]);
        var data = new byte[100];
        var tag = new byte[16];
        gcm.Seal(new byte[12], data, tag);
        var sealedCopy = (byte[])data.Clone();
        tag[3] ^= 1;
        Assert.False(gcm.Open(new byte[12], data, tag));
        Assert.Equal(sealedCopy, data);
    }
}
