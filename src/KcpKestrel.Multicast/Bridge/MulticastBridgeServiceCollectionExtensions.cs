using KcpKestrel.Multicast;
using KcpKestrel.Multicast.Bridge;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the Kestrel bridge of the multicast transport that <c>AddMulticast</c> adds.</summary>
public static class MulticastBridgeServiceCollectionExtensions
{
    /// <summary>
    /// Makes the bridge the transport's <see cref="IMulticastReceiver"/>, so connections opened with
    /// <c>UseMulticastBridge(topic)</c> get that topic's messages; a receiver registered before this
    /// call still gets every message too (after the bridge has queued it). The options are checked at
    /// start-up.
    /// </summary>
    public static OptionsBuilder<MulticastBridgeOptions> AddMulticastBridge(this IServiceCollection services, Action<MulticastBridgeOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var previous = services.LastOrDefault(d => d.ServiceType == typeof(IMulticastReceiver));
        if (previous is not null)
        {
            services.Remove(previous);
        }

        services.AddSingleton(provider => ActivatorUtilities.CreateInstance<MulticastBridge>(provider, Resolve(provider, previous)));
        services.AddSingleton<IMulticastReceiver>(provider => provider.GetRequiredService<MulticastBridge>());
        var options = services.AddOptions<MulticastBridgeOptions>()
            .Validate(o => Valid(o), "MulticastBridgeOptions: QueueLimit must be 1 to 1048576, Overflow Disconnect or DropNewest.")
            .ValidateOnStart();
        return configure is null ? options : options.Configure(configure);
    }

    private static NextReceiver Resolve(IServiceProvider provider, ServiceDescriptor? descriptor) => new(descriptor switch
    {
        null => null,
        { ImplementationInstance: IMulticastReceiver instance } => instance,
        { ImplementationFactory: { } factory } => (IMulticastReceiver)factory(provider),
        _ => (IMulticastReceiver)ActivatorUtilities.CreateInstance(provider, descriptor.ImplementationType!),
    });

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
