using System.Numerics;
using KcpKestrel.Transport.UserTcp.Tcp;

namespace KcpKestrel.Transport.UserTcp.Tests.Stack;

public sealed class InitialSequenceNumbersTests
{
    private static InitialSequenceNumbers Create(byte seed = 1)
    {
        var (k0, k1) = StackSecret.From(Enumerable.Repeat(seed, 16).ToArray()).Derive(1);
        return new InitialSequenceNumbers(k0, k1);
    }

    [Fact]
    public void DifferentTuples_GetUnrelatedIsns()
    {
        var isns = Create();
        var seen = new HashSet<uint>();
        var ones = 0L;
        const int count = 4096;
        for (var port = 0; port < count; port++)
        {
            // Same time, tuples differing in one port bit pattern: F must spread them over all 32 bits.
            var isn = isns.Next(StackSegments.Flow(remotePort: 10_000 + port), 5_000);
            Assert.True(seen.Add(isn), "two tuples got the same ISN");
            ones += BitOperations.PopCount(isn);
        }

        // About half the bits set, as random numbers would (32 * 4096 / 2 = 65536, σ ≈ 181).
        Assert.InRange(ones, 64_000, 67_000);
    }

    [Fact]
    public void SameTupleLater_GetsALargerIsn_AtFourMicrosecondsPerTick()
    {
        var isns = Create();
        var flow = StackSegments.Flow();
        var first = isns.Next(flow, 1_000);
        var later = isns.Next(flow, 3_000);
        Assert.Equal(2_000u * 250, later - first);

        // Within one ms the sub-ms counter still moves it forward.
        var again = isns.Next(flow, 3_000);
        Assert.True((int)(again - later) > 0);
    }

    [Fact]
    public void TheSecretDecides()
    {
        var flow = StackSegments.Flow();
        Assert.NotEqual(Create(1).Offset(flow), Create(2).Offset(flow));
        Assert.Equal(Create(1).Offset(flow), Create(1).Offset(flow));
    }
}
