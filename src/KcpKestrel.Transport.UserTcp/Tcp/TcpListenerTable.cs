using System.Net;
using System.Net.Sockets;

namespace KcpKestrel.Transport.UserTcp.Tcp;

/// <summary>
/// A stack's listeners by port: each port's entries are chained (a specific address and wildcards may share a port),
/// and a lookup allocates nothing.
/// </summary>
internal sealed class TcpListenerTable
{
    private readonly Dictionary<ushort, TcpListenerEntry> _listeners = [];

    /// <summary>
    /// Adds a listener on <paramref name="local"/> (IPAddress.Any: any IPv4 address; IPv6Any: any address of either
    /// family). Throws when the same address and port is already listened on.
    /// </summary>
    public void Add(IPEndPoint local, ITcpAcceptor acceptor)
    {
        ArgumentNullException.ThrowIfNull(local);
        ArgumentNullException.ThrowIfNull(acceptor);
        if (local.Port is <= 0 or > ushort.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(local), "A listener needs a port (1-65535).");
        }

        var isIPv6 = local.AddressFamily == AddressFamily.InterNetworkV6;
        var isWildcard = local.Address.Equals(IPAddress.Any) || local.Address.Equals(IPAddress.IPv6Any);
        var address = isWildcard ? UInt128.Zero : TcpFlowKey.ToUInt128(local.Address);
        var port = (ushort)local.Port;
        _listeners.TryGetValue(port, out var head);
        for (var entry = head; entry is not null; entry = entry.Next)
        {
            if (entry.IsWildcard == isWildcard && entry.IsIPv6 == isIPv6 && entry.Address == address)
            {
                throw new SocketException((int)SocketError.AddressAlreadyInUse);
            }
        }

        _listeners[port] = new TcpListenerEntry(address, port, isIPv6, isWildcard, acceptor) { Next = head };
    }

    /// <summary>Removes the listener on <paramref name="local"/> and marks it stopped; false when there was none.</summary>
    public bool Remove(IPEndPoint local)
    {
        ArgumentNullException.ThrowIfNull(local);
        var isIPv6 = local.AddressFamily == AddressFamily.InterNetworkV6;
        var isWildcard = local.Address.Equals(IPAddress.Any) || local.Address.Equals(IPAddress.IPv6Any);
        var address = isWildcard ? UInt128.Zero : TcpFlowKey.ToUInt128(local.Address);
        var port = (ushort)local.Port;
        if (!_listeners.TryGetValue(port, out var head))
        {
            return false;
        }

        TcpListenerEntry? previous = null;
        for (var entry = head; entry is not null; previous = entry, entry = entry.Next)
        {
            if (entry.IsWildcard == isWildcard && entry.IsIPv6 == isIPv6 && entry.Address == address)
            {
                entry.IsStopped = true;
                if (previous is not null)
                {
                    previous.Next = entry.Next;
                }
                else if (entry.Next is not null)
                {
                    _listeners[port] = entry.Next;
                }
                else
                {
                    _listeners.Remove(port);
                }

                return true;
            }
        }

        return false;
    }

    /// <summary>The listener a segment of <paramref name="flow"/> goes to: the exact address first, then a wildcard.</summary>
    public TcpListenerEntry? Find(in TcpFlowKey flow)
    {
        if (!_listeners.TryGetValue(flow.LocalPort, out var entry))
        {
            return null;
        }

        TcpListenerEntry? wildcard = null;
        for (; entry is not null; entry = entry.Next)
        {
            if (entry.Matches(flow))
            {
                if (!entry.IsWildcard)
                {
                    return entry;
                }

                // An IPv4 wildcard beats the dual-mode IPv6 one for IPv4 flows.
                if (wildcard is null || (!flow.IsIPv6 && !entry.IsIPv6))
                {
                    wildcard = entry;
                }
            }
        }

        return wildcard;
    }

    /// <summary>Forgets every listener.</summary>
    public void Clear() => _listeners.Clear();
}
