using CsCheck;
using KcpKestrel.Transport.UserTcp.Tcp;

namespace KcpKestrel.Transport.UserTcp.Tests.Stack;

/// <summary>CsCheck properties of the stack's keyed functions.</summary>
public sealed class StackPropertyTests
{
    private static readonly SynCookies Cookies = new(0x0123_4567_89ab_cdefUL, 0xfedc_ba98_7654_3210UL);

    private static TcpFlowKey Flow(ulong local, ushort localPort, ulong remote, ushort remotePort, bool v6) =>
        new(v6 ? (UInt128)local << 20 : TcpFlowKey.FromIPv4(BitConverter.GetBytes((uint)local)), localPort, v6 ? (UInt128)remote << 20 : TcpFlowKey.FromIPv4(BitConverter.GetBytes((uint)remote)), remotePort, v6);

    [Fact]
    public void AnyCookie_ValidatesWithinItsLife_AndDecodesWhatWasEncoded()
    {
        Gen.Select(Gen.ULong, Gen.UShort, Gen.ULong, Gen.UShort, Gen.Bool, Gen.UInt, Gen.UInt)
            .Select(Gen.UShort, Gen.Int[-1, 14], Gen.Bool, Gen.UInt[0, 2 * 65_536])
            .Sample((tuple, mss, scale, sack, later) =>
            {
                var (local, localPort, remote, remotePort, v6, peerIsn, now) = tuple;
                var flow = Flow(local, localPort, remote, remotePort, v6);
                var options = new TcpOptions { Mss = mss, HasWindowScale = scale >= 0, WindowScale = (byte)Math.Max(0, scale), SackPermitted = sack };
                var cookie = Cookies.Create(flow, peerIsn, options, now, out var encodedMss);

                // Valid until at least two whole counter units have passed (up to three, by where in its unit it was made).
                var at = now + later;
                // The counter wraps with the ms clock (16 bits of 65.536 s units), and so does the cookie's age.
                var age = (SynCookies.Counter(at) - SynCookies.Counter(now)) & 0xFFFF;
                var valid = Cookies.TryValidate(flow, peerIsn, cookie, at, out var decodedMss, out var decodedScale, out var decodedSack);
                Assert.Equal(age <= SynCookies.MaxAge, valid);
                if (valid)
                {
                    Assert.Equal(encodedMss, decodedMss);
                    Assert.True(decodedMss <= Math.Max(mss, (ushort)536) || decodedMss == (v6 ? 1220 : 536));
                    Assert.Equal(scale, decodedScale);
                    Assert.Equal(sack, decodedSack);
                }

                // A flipped MAC bit can never pass (forgeries in general: SynCookiesTests, 2^-23 per guess).
                Assert.False(Cookies.TryValidate(flow, peerIsn, cookie ^ (1u << (9 + (int)(peerIsn % 23))), now, out _, out _, out _));
            },
            iter: 20_000);
    }

    [Fact]
    public void TheIsnOfATuple_GrowsWithTheClock()
    {
        var isns = new InitialSequenceNumbers(1, 2);
        Gen.Select(Gen.ULong, Gen.UShort, Gen.ULong, Gen.UShort, Gen.UInt, Gen.UInt[1, 8_000_000])
            .Sample((local, localPort, remote, remotePort, now, later) =>
            {
                var flow = Flow(local, localPort, remote, remotePort, false);
                var first = isns.Next(flow, now);
                var second = isns.Next(flow, now + later);

                // 250 ticks per ms, within the half of the sequence space that reads as "later" (about 2.4 hours).
                Assert.InRange(second - first, (later * 250) - 250, (later * 250) + 250);
                Assert.True((int)(second - first) > 0);
            },
            iter: 20_000,
            threads: 1);
    }
}
