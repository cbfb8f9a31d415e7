using KcpKestrel.Transport.UserTcp.Tcp;

namespace KcpKestrel.Transport.UserTcp.Tests.Stack;

public sealed class SynCookiesTests
{
    private const uint Unit = 65_536; // one counter unit, ms

    private static SynCookies Create()
    {
        var (k0, k1) = StackSecret.From(Enumerable.Repeat((byte)7, 16).ToArray()).Derive(2);
        return new SynCookies(k0, k1);
    }

    [Theory]
    [InlineData(1460, 7, true, 1460)]
    [InlineData(1400, 14, false, 1300)]
    [InlineData(536, -1, true, 536)]
    [InlineData(0, -1, false, 536)] // no MSS option: RFC 9293's default
    [InlineData(9000, 0, true, 1460)]
    public void ACookie_RoundTripsWhatItEncodes(int peerMss, int peerScale, bool sack, int expectedMss)
    {
        var cookies = Create();
        var flow = StackSegments.Flow();
        var options = new TcpOptions { Mss = (ushort)peerMss, HasWindowScale = peerScale >= 0, WindowScale = (byte)Math.Max(0, peerScale), SackPermitted = sack };
        var cookie = cookies.Create(flow, 777, options, 10_000, out var encoded);

        Assert.Equal(expectedMss, encoded);
        Assert.True(cookies.TryValidate(flow, 777, cookie, 10_500, out var mss, out var scale, out var sackPermitted));
        Assert.Equal(expectedMss, mss);
        Assert.Equal(peerScale, scale);
        Assert.Equal(sack, sackPermitted);
    }

    [Fact]
    public void IPv6_UsesItsOwnTable()
    {
        var cookies = Create();
        var flow = TcpFlowKey.From(new System.Net.IPEndPoint(System.Net.IPAddress.Parse("fd00::1"), 80), new System.Net.IPEndPoint(System.Net.IPAddress.Parse("fd00::2"), 5000));
        var cookie = cookies.Create(flow, 1, new TcpOptions { Mss = 1440 }, 0, out var encoded);
        Assert.Equal(1440, encoded);
        Assert.True(cookies.TryValidate(flow, 1, cookie, 0, out var mss, out _, out _));
        Assert.Equal(1440, mss);
    }

    [Fact]
    public void ACookie_LivesTwoCounterUnits_ThenExpires()
    {
        var cookies = Create();
        var flow = StackSegments.Flow();
        const uint sent = (5 * Unit) + 100;
        var cookie = cookies.Create(flow, 1, default, sent, out _);

        Assert.True(cookies.TryValidate(flow, 1, cookie, sent, out _, out _, out _));
        Assert.True(cookies.TryValidate(flow, 1, cookie, (7 * Unit) + 65_000, out _, out _, out _));
        Assert.False(cookies.TryValidate(flow, 1, cookie, 8 * Unit, out _, out _, out _));
        Assert.False(cookies.TryValidate(flow, 1, cookie, 9 * Unit, out _, out _, out _));
        Assert.False(cookies.TryValidate(flow, 1, cookie, 13 * Unit, out _, out _, out _)); // same low bits, 8 units on
    }

    [Fact]
    public void ACookie_IsBoundToItsTupleAndThePeersIsn()
    {
        var cookies = Create();
        var flow = StackSegments.Flow();
        var cookie = cookies.Create(flow, 4242, default, 1_000, out _);

        Assert.False(cookies.TryValidate(StackSegments.Flow(remotePort: 40001), 4242, cookie, 1_000, out _, out _, out _));
        Assert.False(cookies.TryValidate(StackSegments.Flow(localPort: 8081), 4242, cookie, 1_000, out _, out _, out _));
        Assert.False(cookies.TryValidate(flow, 4243, cookie, 1_000, out _, out _, out _));
        Assert.False(cookies.TryValidate(flow, 4242, cookie ^ 0x10, 1_000, out _, out _, out _)); // SACK bit flipped
        Assert.False(cookies.TryValidate(flow, 4242, cookie ^ 0x20, 1_000, out _, out _, out _)); // MSS index changed
    }

    [Fact]
    public void RandomCookies_AreRejected()
    {
        var cookies = Create();
        var flow = StackSegments.Flow();
        var random = new Random(23);
        var accepted = 0;
        for (var i = 0; i < 200_000; i++)
        {
            if (cookies.TryValidate(flow, (uint)random.Next(), (uint)random.NextInt64(0, 1L << 32), 1_000, out _, out _, out _))
            {
                accepted++;
            }
        }

        // 2^-23 per guess, 3/4 of them in a live time slot: 0.02 expected.
        Assert.Equal(0, accepted);
    }
}
