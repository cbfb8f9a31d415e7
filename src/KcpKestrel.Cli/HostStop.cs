using Microsoft.Extensions.Hosting;

namespace KcpKestrel.Cli;

/// <summary>Stopping a serve or tunnel host the way a signal does: a bounded graceful stop, then abort.</summary>
internal static class HostStop
{
    /// <summary>Stops accepting, gives open connections <paramref name="timeout"/> to finish, then aborts the rest.</summary>
    public static async Task StopWithinAsync(this IHost host, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await host.StopAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Connections that did not finish in time are aborted.
        }
    }
}
