namespace KcpKestrel.Transport.UserTcp.Tcp;

/// <summary>
/// Ephemeral port selection per RFC 6056 §3.3.3 (Algorithm 3, "simple hash-based"): the search for a free port
/// starts at min + (next + F(localip, remoteip, remoteport, secret)) mod range, so each destination sees its own
/// unpredictable sequence of ports while one counter keeps reuse of a 4-tuple as rare as it can be.
/// </summary>
internal sealed class EphemeralPorts
{
    private readonly ulong _k0;
    private readonly ulong _k1;
    private uint _next;

    /// <param name="k0">The first half of the PRF's key.</param>
    /// <param name="k1">The second half.</param>
    /// <param name="min">The lowest ephemeral port (RFC 6335 and Linux: 32768).</param>
    /// <param name="max">The highest (Linux: 60999).</param>
    public EphemeralPorts(ulong k0, ulong k1, ushort min, ushort max)
    {
        if (min == 0 || max < min)
        {
            throw new ArgumentOutOfRangeException(nameof(max), "The ephemeral range must be a non-empty range of non-zero ports.");
        }

        _k0 = k0;
        _k1 = k1;
        Min = min;
        Max = max;
    }

    public ushort Min { get; }

    public ushort Max { get; }

    /// <summary>How many ports the range holds (the most candidates a search tries).</summary>
    public int Count => Max - Min + 1;

    /// <summary>The keyed offset for connections from <paramref name="localAddress"/> to the remote endpoint.</summary>
    public uint Offset(UInt128 localAddress, UInt128 remoteAddress, ushort remotePort, bool isIPv6)
    {
        Span<ulong> words = stackalloc ulong[5];
        words[0] = (ulong)(localAddress >> 64);
        words[1] = (ulong)localAddress;
        words[2] = (ulong)(remoteAddress >> 64);
        words[3] = (ulong)remoteAddress;
        words[4] = remotePort | (isIPv6 ? 1UL << 32 : 0);
        return (uint)SipHash.Hash(_k0, _k1, words);
    }

    /// <summary>The next candidate port of a search with <paramref name="offset"/>; every call advances the counter.</summary>
    public ushort NextCandidate(uint offset)
    {
        var port = (ushort)(Min + ((ulong)_next + offset) % (uint)Count);
        _next++;
        return port;
    }
}
