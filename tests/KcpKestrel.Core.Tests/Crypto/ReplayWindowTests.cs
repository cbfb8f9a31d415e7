using CsCheck;
using KcpKestrel.Core.Crypto;

namespace KcpKestrel.Core.Tests.Crypto;

public sealed class ReplayWindowTests
{
    [Fact]
    public void Duplicate_IsReplayed()
    {
        var w = new ReplayWindow(128);
        Assert.Equal(CipherResult.Ok, w.TryAccept(7, 1000));
        Assert.Equal(CipherResult.Replayed, w.TryAccept(7, 1000));
    }

    [Fact]
    public void TooOld_IsReplayed_EdgeOfWindowIsAccepted()
    {
        var w = new ReplayWindow(128);
        Assert.Equal(128UL, w.Span);
        Assert.Equal(CipherResult.Ok, w.TryAccept(1, 1000));
        Assert.Equal(CipherResult.Replayed, w.TryAccept(1, 1000 - 128));
        Assert.Equal(CipherResult.Ok, w.TryAccept(1, 1000 - 127));
    }

    [Fact]
    public void DefaultWindow_IsTheDocumented4096Datagrams()
    {
        // README: "4096-datagram sliding window per session".
        const ulong Highest = 100_000;
        var w = new ReplayWindow();
        Assert.Equal(4096UL, w.Span);
        Assert.Equal(CipherResult.Ok, w.TryAccept(1, Highest));
        Assert.Equal(CipherResult.Ok, w.TryAccept(1, Highest - 4095));
        Assert.Equal(CipherResult.Replayed, w.TryAccept(1, Highest - 4095));
        Assert.Equal(CipherResult.Replayed, w.TryAccept(1, Highest - 4096));

        // Every sequence of the window, once each, including after the ring wrapped many times.
        var wrapped = new ReplayWindow();
        for (ulong s = 0; s < 50_000; s += 3)
        {
            Assert.Equal(CipherResult.Ok, wrapped.TryAccept(1, s));
        }

        var top = wrapped.Highest;
        for (var s = top - 4095; s < top; s++)
        {
            Assert.Equal(s % 3 == 0 ? CipherResult.Replayed : CipherResult.Ok, wrapped.TryAccept(1, s));
        }

        Assert.Equal(CipherResult.Replayed, wrapped.TryAccept(1, top - 4096 + 1 - 1));
    }

    [Fact]
    public void BigJump_ClearsStaleBits()
    {
        var w = new ReplayWindow(256);
        for (ulong s = 0; s < 256; s++)
        {
            Assert.Equal(CipherResult.Ok, w.TryAccept(1, s));
        }

        Assert.Equal(CipherResult.Ok, w.TryAccept(1, 10_000));

        // Slots that aliased old, seen sequences must read as unseen for the new range.
        for (ulong s = 10_000 - 150; s < 10_000; s++)
        {
            Assert.Equal(CipherResult.Ok, w.TryAccept(1, s));
        }
    }

    [Fact]
    public void OtherSender_IsUnknown()
    {
        var w = new ReplayWindow();
        Assert.Equal(CipherResult.Ok, w.TryAccept(1, 5));
        Assert.Equal(CipherResult.UnknownSender, w.TryAccept(2, 6));
        w.Reset();
        Assert.Equal(CipherResult.Ok, w.TryAccept(2, 6));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(64)]
    [InlineData(1000)]
    public void BadSize_Throws(int size)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ReplayWindow(size));
    }

    [Fact]
    public void MatchesModel_ForAnySequenceOrder()
    {
        // Model: accept iff never seen and within Span of the highest accepted so far.
        Gen.Select(Gen.Int[0, 3], Gen.ULong[0, 2000].Array[1, 400]).Sample(
            (sizeIndex, sequences) =>
            {
                var size = 128 << sizeIndex;
                var w = new ReplayWindow(size);
                var seen = new HashSet<ulong>();
                ulong? highest = null;
                foreach (var s in sequences)
                {
                    var expected = !seen.Contains(s) && (highest is null || s > highest || highest - s < (ulong)size);
                    var got = w.TryAccept(9, s) == CipherResult.Ok;
                    if (expected != got)
                    {
                        return false;
                    }

                    if (got)
                    {
                        seen.Add(s);
                        highest = highest is null ? s : Math.Max(highest.Value, s);
                    }
                }

                return true;
            },
            seed: "2Zk3Ny4hZ0a1",
            iter: 300);
    }
}
