using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace KcpKestrel.Middleware.Internal;

/// <summary>
/// Checks the named <see cref="AddressFilterOptions"/> bound from <paramref name="section"/>, at start-up
/// (ValidateOnStart) and whenever they are created again after a reload: each bad entry fails with its
/// configuration key and value (<c>AddressFilter:Allow:0 = "10.0.0.0/33" is not valid (...); accepted: ...</c>).
/// </summary>
internal sealed class AddressFilterConfigurationValidator(string optionsName, IConfiguration section) : IValidateOptions<AddressFilterOptions>
{
    public ValidateOptionsResult Validate(string? name, AddressFilterOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!string.Equals(name ?? Options.DefaultName, optionsName, StringComparison.Ordinal))
        {
            return ValidateOptionsResult.Skip;
        }

        var used = new HashSet<string>(StringComparer.Ordinal);
        return AddressRuleSet.TryParse(options, Key, out _, out var errors)
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(errors);

        // The configuration key whose value is the entry (the bound list's index need not be the key:
        // "Allow:3" alone binds to index 0); entries added in code keep their list index.
        string Key(string list, int index, string? entry)
        {
            foreach (var child in section.GetSection(list).GetChildren())
            {
                if (string.Equals(child.Value, entry, StringComparison.Ordinal) && used.Add(child.Path))
                {
                    return child.Path;
                }
            }

            return AddressFilterMiddleware.NamedKey(optionsName)(list, index, entry);
        }
    }
}
