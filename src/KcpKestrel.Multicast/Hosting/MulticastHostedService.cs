using Microsoft.Extensions.Hosting;

namespace KcpKestrel.Multicast.Hosting;

/// <summary>
/// Owns the registered <see cref="MulticastTransport"/>: resolving it at start joins the group and
/// starts its threads; stop leaves the group.
/// </summary>
internal sealed class MulticastHostedService(Lazy<MulticastTransport> transport) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _ = transport.Value;
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        if (transport.IsValueCreated)
        {
            transport.Value.Dispose();
        }

        return Task.CompletedTask;
    }
}
