using Microsoft.Extensions.Options;

namespace KcpKestrel.Multicast.Hosting;

/// <summary>
/// Checks the options at start-up (ValidateOnStart) with <see cref="MulticastOptions.Validate"/>'s
/// ranges, plus what the hosted transport needs: a group.
/// </summary>
internal sealed class MulticastOptionsValidator : IValidateOptions<MulticastOptions>
{
    public ValidateOptionsResult Validate(string? name, MulticastOptions options)
    {
        if (options.Group is null)
        {
            return ValidateOptionsResult.Fail("MulticastOptions.Group is required (e.g. 239.192.7.1:40100).");
        }

        try
        {
            options.Validate();
            return ValidateOptionsResult.Success;
        }
        catch (ArgumentOutOfRangeException e)
        {
            return ValidateOptionsResult.Fail(e.Message);
        }
    }
}
