namespace KcpKestrel.Transport.UserTcp.Tcp;

/// <summary>
/// Sequence-number arithmetic modulo 2^32 (RFC 9293 §3.4): comparisons are by the signed difference, valid while
/// the two numbers are within 2^31 of each other, which every window guarantees.
/// </summary>
internal static class Sequence
{
    public static bool Lt(uint a, uint b) => (int)(a - b) < 0;

    public static bool Le(uint a, uint b) => (int)(a - b) <= 0;

    public static bool Gt(uint a, uint b) => (int)(a - b) > 0;

    public static bool Ge(uint a, uint b) => (int)(a - b) >= 0;

    public static uint Max(uint a, uint b) => Gt(a, b) ? a : b;

    public static uint Min(uint a, uint b) => Lt(a, b) ? a : b;

    /// <summary>Whether <paramref name="x"/> lies in [<paramref name="start"/>, <paramref name="end"/>).</summary>
    public static bool InRange(uint x, uint start, uint end) => (x - start) < (end - start);
}
