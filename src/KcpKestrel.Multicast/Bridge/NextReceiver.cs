namespace KcpKestrel.Multicast.Bridge;

/// <summary>
/// The receiver the app registered before the bridge (or none), wrapped so the container does not
/// resolve the bridge itself as <see cref="IMulticastReceiver"/> into its own constructor.
/// </summary>
internal sealed record NextReceiver(IMulticastReceiver? Receiver);
