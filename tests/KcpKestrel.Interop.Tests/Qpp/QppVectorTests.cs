using System.Numerics;
using KcpKestrel.Protocols.Qpp;

namespace KcpKestrel.Interop.Tests.Qpp;

/// <summary>
/// Our QPP against xtaci/qpp v1.1.25's known answers, byte for byte: the pads a key and count
/// derive, the random stream each kcptun stream direction starts from, and the bytes both
/// directions produce for the same stream cut into writes of many sizes.
/// </summary>
public sealed class QppVectorTests
{
    private static readonly Dictionary<string, QppPad> s_pads = [];

    public static TheoryData<string> CaseNames => new(QppVectors.Cases.Select(c => c.Name));

    public static TheoryData<string, int> StreamCases
    {
        get
        {
            var data = new TheoryData<string, int>();
            foreach (var c in QppVectors.Cases)
            {
                for (var i = 0; i < c.Streams.Count; i++)
                {
                    data.Add(c.Name, i);
                }
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void QppPad_KeyAndCount_SamePadsAsQpp(string name)
    {
        var vector = QppVectors.Named(name);
        var pad = Pad(vector);
        Assert.Equal(vector.PadCount, pad.PadCount);
        Assert.Equal(vector.Pads, pad.Pads.ToArray());
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void QppRandom_Key_SameStartAsCreatePrng(string name)
    {
        var vector = QppVectors.Named(name);
        var start = QppRandom.FromSeed(vector.Key);
        Assert.Equal(vector.Xoshiro, new[] { start.S0, start.S1, start.S2, start.S3 });
        Assert.Equal(vector.Seed64, start.Word);
        Assert.Equal(0, start.Used);
    }

    [Theory]
    [MemberData(nameof(StreamCases))]
    public void Transform_SameWritesAsQpp_SameBytes(string name, int index)
    {
        var vector = QppVectors.Named(name);
        var stream = vector.Streams[index];
        var pad = Pad(vector);
        var random = pad.Start;
        var output = new byte[stream.Input.Length];
        var offset = 0;
        foreach (var write in stream.Writes.Append(int.MaxValue))
        {
            var take = Math.Min(write, stream.Input.Length - offset);
            var source = stream.Input.AsSpan(offset, take);
            var destination = output.AsSpan(offset, take);
            if (stream.Encrypt)
            {
                pad.Encrypt(source, destination, ref random);
            }
            else
            {
                pad.Decrypt(source, destination, ref random);
            }

            offset += take;
        }

        Assert.Equal(stream.Output, output);
    }

    [Fact]
    public async Task QppDuplexPipe_KcptunDefaults_SendsAndReadsQppBytes()
    {
        // A kcptun stream's first bytes either way: what our pipe sends is qpp's ciphertext, and qpp's
        // ciphertext is what our pipe reads back as plain text.
        var vector = QppVectors.Named("kcptun defaults");
        var encrypt = vector.Streams.First(s => s.Encrypt);
        var decrypt = vector.Streams.First(s => !s.Encrypt);
        var (ours, wire) = DuplexPipes.CreatePair();
        await using var qpp = new QppDuplexPipe(ours, Pad(vector));

        await qpp.Output.WriteAsync(encrypt.Input);
        await qpp.Output.CompleteAsync();
        await wire.Output.WriteAsync(decrypt.Input);
        await wire.Output.CompleteAsync();

        Assert.Equal(encrypt.Output, await ReadToEndAsync(wire.Input));
        Assert.Equal(decrypt.Output, await ReadToEndAsync(qpp.Input));
    }

    [Fact]
    public void SecureKeyLength_IsBytesOf256Factorial()
    {
        var permutations = BigInteger.One;
        for (var i = 2; i <= 256; i++)
        {
            permutations *= i;
        }

        Assert.Equal(QppOptions.SecureKeyLength, (permutations.GetBitLength() + 7) / 8);
        Assert.Equal(QppOptions.SecurePadCount, (QppOptions.SecureKeyLength + 31) / 32);
    }

    private static QppPad Pad(QppVectors.Case vector)
    {
        lock (s_pads)
        {
            if (!s_pads.TryGetValue(vector.Name, out var pad))
            {
                pad = new QppPad(vector.Key, new QppOptions { PadCount = vector.PadCount });
                s_pads.Add(vector.Name, pad);
            }

            return pad;
        }
    }

    private static async Task<byte[]> ReadToEndAsync(System.IO.Pipelines.PipeReader reader)
    {
        var stream = new MemoryStream();
        await reader.CopyToAsync(stream).WaitAsync(TestWaits.Bound);
        await reader.CompleteAsync();
        return stream.ToArray();
    }
}
