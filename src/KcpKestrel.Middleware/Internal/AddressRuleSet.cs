using System.Net;

namespace KcpKestrel.Middleware.Internal;

/// <summary>A parsed, immutable snapshot of <see cref="AddressFilterOptions"/>.</summary>
internal sealed class AddressRuleSet
{
    private readonly AddressPrefix[] _allow;
    private readonly AddressPrefix[] _deny;

    private AddressRuleSet(AddressPrefix[] allow, AddressPrefix[] deny, string[] invalid)
    {
        _allow = allow;
        _deny = deny;
        Invalid = invalid;
    }

    /// <summary>Entries that did not parse (left out of the rules; reported by the caller).</summary>
    public IReadOnlyList<string> Invalid { get; }

    public static AddressRuleSet Parse(AddressFilterOptions options)
    {
        var invalid = new List<string>();
        var allow = ParseList(options.Allow, invalid);
        var deny = ParseList(options.Deny, invalid);
        return new AddressRuleSet(allow, deny, [.. invalid]);
    }

    public bool IsAllowed(IPAddress address)
    {
        foreach (var prefix in _deny)
        {
            if (prefix.Contains(address))
            {
                return false;
            }
        }

        if (_allow.Length == 0)
        {
            return true;
        }

        foreach (var prefix in _allow)
        {
            if (prefix.Contains(address))
            {
                return true;
            }
        }

        return false;
    }

    private static AddressPrefix[] ParseList(IList<string> entries, List<string> invalid)
    {
        var parsed = new List<AddressPrefix>(entries.Count);
        foreach (var entry in entries)
        {
            if (AddressPrefix.TryParse(entry, out var prefix))
            {
                parsed.Add(prefix.Value);
            }
            else
            {
                invalid.Add(entry);
            }
        }

        return [.. parsed];
    }
}
