namespace KcpKestrel.Transport.UserTcp.Tcp;

/// <summary>
/// Initial sequence numbers per RFC 6528: ISN = M + F(localip, localport, remoteip, remoteport, secretkey), M a
/// clock ticking every 4 µs and F a keyed PRF (SipHash-2-4). The clock is the loop's ms time times 250, plus a
/// counter of ISNs taken within the same ms (capped below 250 so M never runs ahead into the next ms): a tuple reused
/// later gets a larger ISN, while different tuples get unrelated ones.
/// </summary>
internal sealed class InitialSequenceNumbers
{
    private const uint TicksPerMs = 250; // 4 µs ticks

    private readonly ulong _k0;
    private readonly ulong _k1;
    private uint _lastNow;
    private uint _subMs;

    public InitialSequenceNumbers(ulong k0, ulong k1)
    {
        _k0 = k0;
        _k1 = k1;
    }

    /// <summary>The ISN for a new connection of <paramref name="flow"/> at <paramref name="now"/> (ms).</summary>
    public uint Next(in TcpFlowKey flow, uint now)
    {
        if (now != _lastNow)
        {
            _lastNow = now;
            _subMs = 0;
        }
        else if (_subMs < TicksPerMs - 1)
        {
            _subMs++;
        }

        return unchecked((now * TicksPerMs) + _subMs + Offset(flow));
    }

    /// <summary>F: the tuple's keyed offset, fixed for the secret's life.</summary>
    public uint Offset(in TcpFlowKey flow)
    {
        Span<ulong> words = stackalloc ulong[5];
        SipHash.WriteFlow(flow, words);
        return (uint)SipHash.Hash(_k0, _k1, words);
    }
}
