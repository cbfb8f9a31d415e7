using KcpKestrel.Middleware;
using KcpKestrel.Middleware.Internal;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the <see cref="AddressFilterOptions"/> that <c>UseAddressFilter()</c> reads.</summary>
public static class AddressFilterServiceCollectionExtensions
{
    /// <summary>
    /// Binds the default <see cref="AddressFilterOptions"/> to <paramref name="section"/> (e.g. <c>configuration.GetSection("AddressFilter")</c>)
    /// and checks them when the host starts: a bad entry stops start-up with its key and value
    /// (<c>AddressFilter:Allow:0 = "10.0.0.0/33" is not valid (...); accepted: ...</c>). Reloads of the section
    /// reach <c>UseAddressFilter()</c>; one with a bad entry is logged and the previous rules stay.
    /// </summary>
    public static OptionsBuilder<AddressFilterOptions> AddAddressFilter(this IServiceCollection services, IConfiguration section) =>
        AddAddressFilter(services, Options.Options.DefaultName, section);

    /// <summary>As <see cref="AddAddressFilter(IServiceCollection, IConfiguration)"/>, for the named options <paramref name="name"/> (<c>UseAddressFilter(name)</c>).</summary>
    public static OptionsBuilder<AddressFilterOptions> AddAddressFilter(this IServiceCollection services, string name, IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(section);
        var builder = services.AddOptions<AddressFilterOptions>(name).Bind(section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<AddressFilterOptions>>(new AddressFilterConfigurationValidator(name, section));
        return builder;
    }
}
