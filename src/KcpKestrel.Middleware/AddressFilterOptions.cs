namespace KcpKestrel.Middleware;

/// <summary>
/// Rules of <c>UseAddressFilter</c>: IP addresses or CIDR prefixes ("192.0.2.7", "10.0.0.0/8", "2001:db8::/32").
/// A peer matching <see cref="Deny"/> is refused; otherwise, when <see cref="Allow"/> is not empty, a peer
/// matching none of it is refused. Bind to configuration and the filter follows its reloads.
/// </summary>
public sealed class AddressFilterOptions
{
    /// <summary>Addresses and prefixes allowed; empty = every address not denied.</summary>
    public IList<string> Allow { get; } = [];

    /// <summary>Addresses and prefixes refused; deny wins over allow.</summary>
    public IList<string> Deny { get; } = [];
}
