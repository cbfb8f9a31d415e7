namespace KcpKestrel.Middleware;

/// <summary>
/// Rules of <c>UseAddressFilter</c>: IP addresses or CIDR prefixes ("192.0.2.7", "10.0.0.0/8", "2001:db8::/32").
/// A peer matching <see cref="Deny"/> is refused; otherwise, when <see cref="Allow"/> has entries, a peer
/// matching none of them is refused. Entries are parsed strictly and the filter fails closed: one bad entry
/// (not a canonical dotted quad such as "010.0.0.1" or "10.1", a prefix length out of range or with leading
/// zeros, address bits set past the prefix, empty text, whitespace) rejects the whole set, so start-up fails
/// naming it and a reload keeps the previous rules. IPv4-mapped IPv6 addresses and rules ("::ffff:10.0.0.0/104")
/// match as their IPv4 form both ways. Bind to configuration with <c>services.AddAddressFilter(section)</c>
/// and the filter follows its reloads.
/// </summary>
public sealed class AddressFilterOptions
{
    /// <summary>
    /// Addresses and prefixes allowed. No entries = no allow list: every address not denied passes. With
    /// entries, only matching peers pass; a list that does not parse is never applied (fail closed).
    /// </summary>
    public IList<string> Allow { get; } = [];

    /// <summary>Addresses and prefixes refused; deny wins over allow.</summary>
    public IList<string> Deny { get; } = [];
}
