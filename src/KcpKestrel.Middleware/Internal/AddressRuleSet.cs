using System.Diagnostics.CodeAnalysis;
using System.Net;

namespace KcpKestrel.Middleware.Internal;

/// <summary>
/// A parsed, immutable snapshot of <see cref="AddressFilterOptions"/>. It exists only when every entry parsed:
/// a bad entry rejects the whole snapshot (at start-up an error, on reload the previous snapshot stays), so a
/// typo can never widen the filter. "No allow list" (every address not denied passes) is decided by the
/// configured entries, never by how many of them parsed.
/// </summary>
internal sealed class AddressRuleSet
{
    private readonly AddressPrefix[]? _allow;
    private readonly AddressPrefix[] _deny;

    private AddressRuleSet(AddressPrefix[]? allow, AddressPrefix[] deny)
    {
        _allow = allow;
        _deny = deny;
    }

    /// <summary>Whether an allow list is in force (peers matching none of it are refused).</summary>
    public bool HasAllowList => _allow is not null;

    public int AllowCount => _allow?.Length ?? 0;

    public int DenyCount => _deny.Length;

    /// <summary>
    /// Parses every entry of <paramref name="options"/>; on any bad entry returns false with one message per bad
    /// entry, each naming it through <paramref name="key"/> (list name "Allow"/"Deny", index, entry → key).
    /// </summary>
    public static bool TryParse(
        AddressFilterOptions options,
        Func<string, int, string?, string> key,
        [NotNullWhen(true)] out AddressRuleSet? rules,
        out IReadOnlyList<string> errors)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        var allow = ParseList(options.Allow, nameof(options.Allow), key, failures);
        var deny = ParseList(options.Deny, nameof(options.Deny), key, failures);
        errors = failures;
        if (failures.Count > 0)
        {
            rules = null;
            return false;
        }

        // An allow list that was given stays an allow list, whatever it holds.
        rules = new AddressRuleSet(options.Allow.Count == 0 ? null : allow, deny);
        return true;
    }

    /// <summary>Keys entries as <c>AddressFilterOptions.Allow[0]</c> (options set in code).</summary>
    public static string CodeKey(string list, int index, string? entry) => $"{nameof(AddressFilterOptions)}.{list}[{index}]";

    /// <summary>The message for one bad entry, in the style of the KCP configuration checks.</summary>
    public static string Describe(string key, string? entry, string reason) =>
        $"{key} = \"{entry}\" is not valid ({reason}); accepted: {AddressPrefix.AcceptedForms}.";

    public bool IsAllowed(IPAddress address)
    {
        foreach (var prefix in _deny)
        {
            if (prefix.Contains(address))
            {
                return false;
            }
        }

        if (_allow is null)
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

    private static AddressPrefix[] ParseList(IList<string> entries, string list, Func<string, int, string?, string> key, List<string> failures)
    {
        var parsed = new List<AddressPrefix>(entries.Count);
        for (var i = 0; i < entries.Count; i++)
        {
            var entry = entries[i];
            if (AddressPrefix.TryParse(entry, out var prefix, out var reason))
            {
                parsed.Add(prefix.Value);
            }
            else
            {
                failures.Add(Describe(key(list, i, entry), entry, reason));
            }
        }

        return [.. parsed];
    }
}
