using System.Globalization;
using System.Security.Cryptography;
using CsCheck;
using KcpKestrel.Core.Fec;

namespace KcpKestrel.Core.Tests.Fec;

public sealed class ReedSolomonTests
{
    public static TheoryData<string> Kernels => FecTestData.SupportedKernels();

    [Theory]
    [MemberData(nameof(Kernels))]
    public void Parity_EqualsKlauspostReedSolomon(string kernelName)
    {
        var kernel = FecTestData.Kernel(kernelName);
        var checkedCases = 0;
        foreach (var line in File.ReadLines(FecTestData.PathOf("reedsolomon.txt")))
        {
            if (line.StartsWith('#'))
            {
                continue;
            }

            var f = line.Split(' ');
            var k = int.Parse(f[0], CultureInfo.InvariantCulture);
            var m = int.Parse(f[1], CultureInfo.InvariantCulture);
            var size = int.Parse(f[2], CultureInfo.InvariantCulture);
            var seed = ulong.Parse(f[3], CultureInfo.InvariantCulture);
            var shards = FecTestData.NewShards(k + m, size);
            FecTestData.FillSplitMix(shards, k, size, seed);
            new ReedSolomon(k, m, kernel).Encode(shards, 0, size);
            var parity = shards.Skip(k).SelectMany(s => s).ToArray();
            var actual = f[4] == "hex" ? Convert.ToHexStringLower(parity) : Convert.ToHexStringLower(SHA256.HashData(parity));
            Assert.True(f[5] == actual, $"{k}+{m} x {size} on {kernel}");
            checkedCases++;
        }

        Assert.Equal(12, checkedCases);
    }

    [Fact]
    public void EncodingMatrix_IsSystematic()
    {
        var rs = new ReedSolomon(10, 3);
        for (var r = 0; r < 10; r++)
        {
            for (var c = 0; c < 10; c++)
            {
                Assert.Equal(r == c ? 1 : 0, rs.EncodingMatrix[(r * 10) + c]);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void EveryKernel_AnyOffsetAndLength_MatchesScalar(string kernelName)
    {
        var kernel = FecTestData.Kernel(kernelName);
        Gen.Select(Gen.Int[1, 20], Gen.Int[1, 12], Gen.Int[0, 40], Gen.Int[1, 700], Gen.ULong)
            .Sample((k, m, offset, length, seed) =>
            {
                var expected = FecTestData.NewShards(k + m, offset + length);
                FecTestData.FillSplitMix(expected, k, offset + length, seed);
                var actual = expected.Select(s => (byte[])s.Clone()).ToArray();
                new ReedSolomon(k, m, GfKernel.Scalar).Encode(expected, offset, length);
                new ReedSolomon(k, m, kernel).Encode(actual, offset, length);
                for (var i = 0; i < k + m; i++)
                {
                    Assert.Equal(expected[i], actual[i]);
                }
            }, seed: "0N0XIzNsQ0O2", iter: 150);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 2)]
    [InlineData(4, 4)]
    [InlineData(10, 3)]
    public void Reconstruct_EveryErasurePatternUpToParityCount_Succeeds(int k, int m)
    {
        foreach (var kernel in Enum.GetValues<GfKernel>().Where(GaloisKernels.IsSupported))
        {
            var rs = new ReedSolomon(k, m, kernel);
            const int size = 77;
            var original = FecTestData.NewShards(k + m, size);
            FecTestData.FillSplitMix(original, k, size, 42);
            rs.Encode(original, 0, size);
            Assert.True(rs.Verify(original, 0, size));
            var n = k + m;
            for (var mask = 1; mask < 1 << n; mask++)
            {
                if (int.PopCount(mask) > m)
                {
                    continue;
                }

                var shards = original.Select(s => (byte[])s.Clone()).ToArray();
                var present = new bool[n];
                for (var i = 0; i < n; i++)
                {
                    present[i] = (mask & (1 << i)) == 0;
                    if (!present[i])
                    {
                        Array.Fill(shards[i], (byte)0xEE);
                    }
                }

                Assert.True(rs.Reconstruct(shards, present, 0, size));
                for (var i = 0; i < n; i++)
                {
                    Assert.Equal(original[i], shards[i]);
                }
            }
        }
    }

    [Theory]
    [InlineData(20, 10, 1400)]
    [InlineData(128, 128, 300)]
    [InlineData(200, 56, 65)]
    public void Reconstruct_RandomErasurePatternsOfLargeCodes_Succeeds(int k, int m, int size)
    {
        var rs = new ReedSolomon(k, m);
        var original = FecTestData.NewShards(k + m, size);
        FecTestData.FillSplitMix(original, k, size, 7);
        rs.Encode(original, 0, size);
        Gen.Int[1, m].SelectMany(lost => Gen.Shuffle(Enumerable.Range(0, k + m).ToArray(), lost))
            .Sample(lostIndices =>
            {
                var shards = original.Select(s => (byte[])s.Clone()).ToArray();
                var present = Enumerable.Repeat(true, k + m).ToArray();
                foreach (var i in lostIndices)
                {
                    present[i] = false;
                    Array.Clear(shards[i]);
                }

                Assert.True(rs.ReconstructData(shards, present, 0, size));
                for (var d = 0; d < k; d++)
                {
                    Assert.Equal(original[d], shards[d]);
                }
            }, seed: "0N0XIzNsQ0O2", iter: 20, threads: 1);
    }

    [Fact]
    public void TooFewShards_Fails_WithoutTouchingData()
    {
        var rs = new ReedSolomon(4, 2);
        var shards = FecTestData.NewShards(6, 10);
        var present = new[] { false, false, false, true, true, true };
        Assert.False(rs.ReconstructData(shards, present, 0, 10));
    }

    [Fact]
    public void Verify_FlippedParityBit_IsDetected()
    {
        var rs = new ReedSolomon(5, 3);
        var shards = FecTestData.NewShards(8, 100);
        FecTestData.FillSplitMix(shards, 5, 100, 3);
        rs.Encode(shards, 0, 100);
        Assert.True(rs.Verify(shards, 0, 100));
        shards[6][50] ^= 0x10;
        Assert.False(rs.Verify(shards, 0, 100));
    }

    [Fact]
    public void RepeatedLossPattern_ReusesOneDecodeMatrix()
    {
        var rs = new ReedSolomon(10, 3);
        var shards = FecTestData.NewShards(13, 64);
        FecTestData.FillSplitMix(shards, 10, 64, 9);
        rs.Encode(shards, 0, 64);
        var present = Enumerable.Repeat(true, 13).ToArray();
        present[2] = present[5] = false;
        for (var i = 0; i < 5; i++)
        {
            Assert.True(rs.ReconstructData(shards, present, 0, 64));
        }

        Assert.Equal(1, rs.CachedDecodeMatrices);
        present[5] = true;
        present[7] = false;
        Assert.True(rs.ReconstructData(shards, present, 0, 64));
        Assert.Equal(2, rs.CachedDecodeMatrices);
    }

    [Fact]
    public void ShapesKlauspostRejects_AreRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ReedSolomon(0, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ReedSolomon(200, 57));
        Assert.Equal(256, new ReedSolomon(255, 1).TotalShards);
    }
}
