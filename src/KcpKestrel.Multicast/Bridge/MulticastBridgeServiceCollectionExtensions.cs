using KcpKestrel.Multicast;
using KcpKestrel.Multicast.Bridge;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the Kestrel bridge of the multicast transport that <c>AddMulticast</c> adds.</summary>
public static class MulticastBridgeServiceCollectionExtensions
{
    /// <summary>
    /// Makes the bridge the transport's <see cref="IMulticastReceiver"/> (it replaces one registered
    /// before), so connections opened with <c>UseMulticastBridge(topic)</c> get that topic's messages.
    /// Call after <c>AddMulticast</c>. The options are checked at start-up.
    /// </summary>
    public static OptionsBuilder<MulticastBridgeOptions> AddMulticastBridge(this IServiceCollection services, Action<MulticastBridgeOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddSingleton<MulticastBridge>();
        services.AddSingleton<IMulticastReceiver>(provider => provider.GetRequiredService<MulticastBridge>());
        var options = services.AddOptions<MulticastBridgeOptions>()
            .Validate(o => Valid(o), "MulticastBridgeOptions: QueueLimit must be 1 to 1048576, Overflow Disconnect or DropNewest.")
            .ValidateOnStart();
        return configure is null ? options : options.Configure(configure);
    }

    private static bool Valid(MulticastBridgeOptions options)
    {
        try
        {
            options.Validate();
            return true;
        }
        catch (ArgumentOutOfRangeException)
        {
            return false;
        }
    }
}
