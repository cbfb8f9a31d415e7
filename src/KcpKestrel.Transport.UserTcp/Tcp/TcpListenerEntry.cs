namespace KcpKestrel.Transport.UserTcp.Tcp;

/// <summary>
/// One listening endpoint of a stack: its address (or a wildcard), port and acceptor, its half-open count, and
/// when it last answered with a SYN cookie. Entries of one port are chained.
/// </summary>
internal sealed class TcpListenerEntry
{
    public TcpListenerEntry(UInt128 address, ushort port, bool isIPv6, bool isWildcard, ITcpAcceptor acceptor)
    {
        Address = address;
        Port = port;
        IsIPv6 = isIPv6;
        IsWildcard = isWildcard;
        Acceptor = acceptor;
    }

    /// <summary>The address listened on (meaningless when <see cref="IsWildcard"/>).</summary>
    public UInt128 Address { get; }

    public ushort Port { get; }

    /// <summary>The family: an IPv6 wildcard also takes IPv4 (dual mode, as Kestrel's ListenAnyIP).</summary>
    public bool IsIPv6 { get; }

    /// <summary>IPAddress.Any or IPv6Any: any of the stack's addresses.</summary>
    public bool IsWildcard { get; }

    public ITcpAcceptor Acceptor { get; }

    /// <summary>Connections of this listener in SYN-RECEIVED.</summary>
    public int HalfOpen { get; set; }

    /// <summary>Whether <see cref="LastCookieNow"/> is set.</summary>
    public bool HasSentCookies { get; set; }

    /// <summary>When this listener last sent a cookie (ms): returning ACKs are checked as cookies for a while after.</summary>
    public uint LastCookieNow { get; set; }

    /// <summary>Set once <c>StopListening</c> removed it: its half-open connections are no longer accepted.</summary>
    public bool IsStopped { get; set; }

    /// <summary>The next entry of the same port.</summary>
    public TcpListenerEntry? Next { get; set; }

    /// <summary>Whether a segment to <paramref name="flow"/>'s local address matches this entry exactly or as a wildcard.</summary>
    public bool Matches(in TcpFlowKey flow) =>
        IsWildcard ? (IsIPv6 || !flow.IsIPv6) : flow.IsIPv6 == IsIPv6 && flow.LocalAddress == Address;
}
