using System.Numerics;

namespace KcpKestrel.Transport.UserTcp.Tcp;

/// <summary>
/// SipHash-2-4 (Aumasson and Bernstein, 2012), the keyed PRF behind the stack's secrets: ISNs (RFC 6528), SYN
/// cookies (RFC 4987) and ephemeral ports (RFC 6056). It hashes whole 64-bit little-endian words only, which is all
/// those callers feed it, so nothing is copied or allocated.
/// </summary>
internal static class SipHash
{
    /// <summary>The hash of <paramref name="words"/> (as their 8 * n little-endian bytes) under the key (k0, k1).</summary>
    public static ulong Hash(ulong k0, ulong k1, ReadOnlySpan<ulong> words)
    {
        var v0 = k0 ^ 0x736f6d6570736575UL;
        var v1 = k1 ^ 0x646f72616e646f6dUL;
        var v2 = k0 ^ 0x6c7967656e657261UL;
        var v3 = k1 ^ 0x7465646279746573UL;

        foreach (var m in words)
        {
            v3 ^= m;
            Round(ref v0, ref v1, ref v2, ref v3);
            Round(ref v0, ref v1, ref v2, ref v3);
            v0 ^= m;
        }

        // The last block holds only the message length (in bytes, mod 256) in its top byte: no tail bytes here.
        var last = (ulong)(words.Length * 8) << 56;
        v3 ^= last;
        Round(ref v0, ref v1, ref v2, ref v3);
        Round(ref v0, ref v1, ref v2, ref v3);
        v0 ^= last;

        v2 ^= 0xff;
        Round(ref v0, ref v1, ref v2, ref v3);
        Round(ref v0, ref v1, ref v2, ref v3);
        Round(ref v0, ref v1, ref v2, ref v3);
        Round(ref v0, ref v1, ref v2, ref v3);
        return v0 ^ v1 ^ v2 ^ v3;
    }

    /// <summary>The words a flow's 4-tuple hashes as (addresses, then both ports and the family in one word).</summary>
    public static void WriteFlow(in TcpFlowKey flow, Span<ulong> destination)
    {
        destination[0] = (ulong)(flow.LocalAddress >> 64);
        destination[1] = (ulong)flow.LocalAddress;
        destination[2] = (ulong)(flow.RemoteAddress >> 64);
        destination[3] = (ulong)flow.RemoteAddress;
        destination[4] = ((ulong)flow.LocalPort << 16) | flow.RemotePort | (flow.IsIPv6 ? 1UL << 32 : 0);
    }

    private static void Round(ref ulong v0, ref ulong v1, ref ulong v2, ref ulong v3)
    {
        v0 += v1;
        v1 = BitOperations.RotateLeft(v1, 13);
        v1 ^= v0;
        v0 = BitOperations.RotateLeft(v0, 32);
        v2 += v3;
        v3 = BitOperations.RotateLeft(v3, 16);
        v3 ^= v2;
        v0 += v3;
        v3 = BitOperations.RotateLeft(v3, 21);
        v3 ^= v0;
        v2 += v1;
        v1 = BitOperations.RotateLeft(v1, 17);
        v1 ^= v2;
        v2 = BitOperations.RotateLeft(v2, 32);
    }
}
