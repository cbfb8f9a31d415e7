using CsCheck;
using KcpKestrel.Http.Tests.Infrastructure;
using KcpKestrel.Protocols.Qpp;

namespace KcpKestrel.Http.Tests.Qpp;

/// <summary>The QPP cipher's properties: pads are permutations, decryption inverts encryption however either side cuts the stream, and the data path allocates nothing.</summary>
public sealed class QppPadTests
{
    // Deriving pads is deliberately slow, so the properties share a few: the default, one pad, and more than 256.
    private static readonly QppPad[] s_pads =
    [
        new("it's a secrect"u8, new QppOptions()),
        new(new byte[300], new QppOptions { PadCount = 1 }),
        new("k"u8, new QppOptions { PadCount = 263 }),
    ];

    [Fact]
    public void QppPad_AnyKey_EachPadIsAPermutation()
    {
        foreach (var pad in s_pads)
        {
            for (var p = 0; p < pad.PadCount; p++)
            {
                var values = pad.Pads.Slice(p * 256, 256).ToArray();
                Assert.Equal(Enumerable.Range(0, 256).Select(v => (byte)v), values.Order());
            }
        }
    }

    [Fact]
    public void EncryptDecrypt_DifferentCutsEachSide_RoundTrip()
    {
        Gen.Int[0, 2].Select(Gen.Byte.Array[0, 5000], Gen.Int[0, 600].Array[0, 12], Gen.Int[0, 600].Array[0, 12])
            .Sample((which, data, writes, reads) =>
            {
                var pad = s_pads[which];
                var cipher = Apply(pad, data, writes, encrypt: true);
                Assert.Equal(data, Apply(pad, cipher, reads, encrypt: false));

                // The cipher is a byte stream: how the writer cut it does not change a byte.
                Assert.Equal(Apply(pad, data, [], encrypt: true), cipher);
            }, iter: 300);
    }

    [Fact]
    public void Encrypt_InPlace_SameAsSeparateBuffers()
    {
        Gen.Byte.Array[0, 3000].Select(Gen.Int[0, 20]).Sample((data, skip) =>
        {
            var pad = s_pads[0];
            var separate = pad.Start;
            var inPlace = pad.Start;

            // Start both part-way into a word, as a stream's later writes do.
            var head = data.AsSpan(0, Math.Min(skip, data.Length)).ToArray();
            pad.Encrypt(head, new byte[head.Length], ref separate);
            pad.Encrypt(head, head, ref inPlace);

            var rest = data.AsSpan(head.Length).ToArray();
            var expected = new byte[rest.Length];
            pad.Encrypt(rest, expected, ref separate);
            pad.Encrypt(rest, rest, ref inPlace);
            Assert.Equal(expected, rest);
            pad.Decrypt(rest, rest, ref inPlace);
        }, iter: 200);
    }

    [Fact]
    public void Encrypt_RepeatedPlaintext_CiphertextDiffers()
    {
        // Each 8 bytes take a fresh word and pad: a run of zeros must not show as a repeating pattern.
        var pad = s_pads[0];
        var random = pad.Start;
        var cipher = new byte[64];
        pad.Encrypt(new byte[64], cipher, ref random);
        Assert.True(cipher.Chunk(8).Select(Convert.ToHexString).Distinct().Count() == 8);
    }

    [Fact]
    public void EncryptDecrypt_SteadyState_AllocateNothing()
    {
        var pad = s_pads[0];
        var data = Payloads.Bytes(64 * 1024, 3);
        var output = new byte[data.Length];
        var write = pad.Start;
        var read = pad.Start;
        pad.Encrypt(data, output, ref write);
        pad.Decrypt(output, output, ref read);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 20; i++)
        {
            pad.Encrypt(data.AsSpan(i, 4000 + i), output, ref write);
            pad.Decrypt(output.AsSpan(0, 4000 + i), output, ref read);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Encrypt_DestinationShorter_Throws()
    {
        var random = s_pads[0].Start;
        Assert.Throws<ArgumentOutOfRangeException>(() => s_pads[0].Encrypt(new byte[9], new byte[8], ref random));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(65536)]
    public void QppOptions_PadCountOutOfRange_Throws(int count)
    {
        var options = new QppOptions { PadCount = count };
        Assert.Throws<ArgumentOutOfRangeException>(options.Validate);
        Assert.Throws<ArgumentOutOfRangeException>(() => new QppPad("key"u8, options));
    }

    [Fact]
    public void QppOptions_GetWarnings_AsKcptun()
    {
        Assert.Empty(new QppOptions { PadCount = 61 }.GetWarnings(new byte[211]));
        Assert.Single(new QppOptions { PadCount = 61 }.GetWarnings("it's a secrect"u8));
        Assert.Equal(3, new QppOptions { PadCount = 4 }.GetWarnings("short"u8).Count);
        Assert.Single(new QppOptions { PadCount = 64 }.GetWarnings(new byte[300]));
    }

    private static byte[] Apply(QppPad pad, byte[] data, int[] cuts, bool encrypt)
    {
        var output = new byte[data.Length];
        var random = pad.Start;
        var offset = 0;
        foreach (var cut in cuts.Append(int.MaxValue))
        {
            var take = Math.Min(cut, data.Length - offset);
            if (encrypt)
            {
                pad.Encrypt(data.AsSpan(offset, take), output.AsSpan(offset), ref random);
            }
            else
            {
                pad.Decrypt(data.AsSpan(offset, take), output.AsSpan(offset), ref random);
            }

            offset += take;
        }

        return output;
    }
}
