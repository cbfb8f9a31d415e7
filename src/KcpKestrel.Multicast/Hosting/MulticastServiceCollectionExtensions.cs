using System.Diagnostics.Metrics;
using KcpKestrel.Multicast;
using KcpKestrel.Multicast.Diagnostics;
using KcpKestrel.Multicast.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers one <see cref="MulticastTransport"/> owned by a hosted service.</summary>
public static class MulticastServiceCollectionExtensions
{
    /// <summary>
    /// Binds <see cref="MulticastOptions"/> to <paramref name="section"/> (e.g. <c>configuration.GetSection("Multicast")</c>)
    /// and adds the transport: see <see cref="AddMulticast(IServiceCollection, Action{MulticastOptions})"/>.
    /// </summary>
    public static OptionsBuilder<MulticastOptions> AddMulticast(this IServiceCollection services, IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(section);
        return AddTransport(services).Bind(section);
    }

    /// <summary>
    /// Adds a <see cref="MulticastTransport"/> singleton (inject it to publish) that joins the group when
    /// the host starts and leaves it when the host stops; a registered <see cref="IMulticastReceiver"/>
    /// gets every topic's messages on the receive thread. The options are checked at start-up: one out of
    /// its range, or no <see cref="MulticastOptions.Group"/>, stops the host naming the setting.
    /// </summary>
    public static OptionsBuilder<MulticastOptions> AddMulticast(this IServiceCollection services, Action<MulticastOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        return AddTransport(services).Configure(configure);
    }

    private static OptionsBuilder<MulticastOptions> AddTransport(IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddSingleton<IValidateOptions<MulticastOptions>, MulticastOptionsValidator>();
        // The host's meter factory and logger: the instruments show up under the host's KcpKestrel meter.
        services.AddSingleton(provider => new MulticastMetrics(provider.GetService<IMeterFactory>()));
        services.AddSingleton(provider => new Lazy<MulticastTransport>(() => new MulticastTransport(
            provider.GetRequiredService<IOptions<MulticastOptions>>().Value,
            provider.GetService<IMulticastReceiver>(),
            provider.GetService<ILoggerFactory>()?.CreateLogger<MulticastTransport>(),
            provider.GetRequiredService<MulticastMetrics>(),
            topics: [])));
        services.AddSingleton(provider => provider.GetRequiredService<Lazy<MulticastTransport>>().Value);
        services.AddSingleton<IHostedService, MulticastHostedService>();
        return services.AddOptions<MulticastOptions>().ValidateOnStart();
    }
}
