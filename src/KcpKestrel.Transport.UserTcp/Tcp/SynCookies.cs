namespace KcpKestrel.Transport.UserTcp.Tcp;

/// <summary>
/// SYN cookies (RFC 4987 §3.6): the SYN-ACK's ISN carries everything the listener would otherwise have kept for a
/// half-open connection, authenticated, so a SYN flood costs no memory. The 32 bits, low to high:
/// <list type="bullet">
/// <item>bits 0-3: the peer's window scale (0-14), 15 when it sent none;</item>
/// <item>bit 4: the peer sent SACK-permitted;</item>
/// <item>bits 5-6: an index into a small MSS table (the largest entry not above the peer's MSS);</item>
/// <item>bits 7-8: the low two bits of a counter of 65.536 s units (the ms clock's top 16 bits);</item>
/// <item>bits 9-31: a 23-bit MAC (SipHash-2-4) over the 4-tuple, the peer's ISN, the full counter and bits 0-8.</item>
/// </list>
/// A returning ACK is valid when its cookie (SEG.ACK - 1) is at most two counter units old and its MAC matches;
/// a blind forger's chance per guess is 2^-23. The ISN does not follow RFC 6528's clock while cookies are in use
/// (as with every cookie scheme); the MAC spreads them as unpredictably.
/// </summary>
internal sealed class SynCookies
{
    /// <summary>How many counter units a cookie stays valid (older ones are refused).</summary>
    public const int MaxAge = 2;

    private const int CounterShift = 16; // counter = now >> 16: 65.536 s units, wrapping with the ms clock
    private const uint NoWindowScale = 15;

    private static readonly ushort[] MssTableIPv4 = [536, 1300, 1440, 1460];
    private static readonly ushort[] MssTableIPv6 = [1220, 1380, 1420, 1440];

    private readonly ulong _k0;
    private readonly ulong _k1;

    public SynCookies(ulong k0, ulong k1)
    {
        _k0 = k0;
        _k1 = k1;
    }

    /// <summary>The counter (65.536 s units) at <paramref name="now"/>.</summary>
    public static uint Counter(uint now) => now >> CounterShift;

    /// <summary>
    /// The cookie ISN answering a SYN of <paramref name="flow"/> (its SEG.SEQ <paramref name="peerIsn"/> and options),
    /// and the MSS it encodes.
    /// </summary>
    public uint Create(in TcpFlowKey flow, uint peerIsn, in TcpOptions peerOptions, uint now, out ushort encodedMss)
    {
        var table = flow.IsIPv6 ? MssTableIPv6 : MssTableIPv4;
        var peerMss = peerOptions.Mss == 0 ? table[0] : peerOptions.Mss;
        var index = 0;
        for (var i = table.Length - 1; i > 0; i--)
        {
            if (table[i] <= peerMss)
            {
                index = i;
                break;
            }
        }

        encodedMss = table[index];
        var counter = Counter(now);
        var low = (peerOptions.HasWindowScale ? Math.Min(peerOptions.WindowScale, (byte)14) : NoWindowScale)
            | (peerOptions.SackPermitted ? 1u << 4 : 0)
            | ((uint)index << 5)
            | ((counter & 3) << 7);
        return (Mac(flow, peerIsn, counter, low) << 9) | low;
    }

    /// <summary>
    /// Checks the cookie an ACK returns (<paramref name="cookie"/> = SEG.ACK - 1, <paramref name="peerIsn"/> =
    /// SEG.SEQ - 1) and decodes what it carries; false for a forged, mangled or expired one.
    /// </summary>
    public bool TryValidate(in TcpFlowKey flow, uint peerIsn, uint cookie, uint now, out ushort mss, out int peerWindowScale, out bool sackPermitted)
    {
        mss = 0;
        peerWindowScale = -1;
        sackPermitted = false;

        var low = cookie & 0x1FF;
        var counter = Counter(now);

        // The cookie's counter is the latest one at or before now whose low two bits match.
        var age = (counter - ((cookie >> 7) & 3)) & 3;
        if (age > MaxAge)
        {
            return false;
        }

        var wscale = low & 0xF;
        if (wscale is > 14 and not NoWindowScale)
        {
            return false;
        }

        if ((cookie >> 9) != Mac(flow, peerIsn, counter - age, low))
        {
            return false;
        }

        var table = flow.IsIPv6 ? MssTableIPv6 : MssTableIPv4;
        mss = table[(low >> 5) & 3];
        peerWindowScale = wscale == NoWindowScale ? -1 : (int)wscale;
        sackPermitted = (low & (1u << 4)) != 0;
        return true;
    }

    private uint Mac(in TcpFlowKey flow, uint peerIsn, uint counter, uint low)
    {
        Span<ulong> words = stackalloc ulong[6];
        SipHash.WriteFlow(flow, words);
        words[5] = peerIsn | ((ulong)(counter & 0xFFFF) << 32) | ((ulong)low << 48);
        return (uint)(SipHash.Hash(_k0, _k1, words) >> 41); // the top 23 bits
    }
}
