using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace KcpKestrel.Tests.Shared;

/// <summary>
/// The generic host the Kestrel tests run: warnings-only logging, a web host the caller configures
/// (Kestrel endpoints, transports, services; an empty app unless the caller sets one), bounded start and stop.
/// </summary>
internal static class KestrelTestHost
{
    /// <summary>The bound on a host's start: far above a normal start, so a miss means a hang.</summary>
    public static readonly TimeSpan StartBound = TimeSpan.FromSeconds(30);

    public static IHost Build(
        Action<IWebHostBuilder> configureWebHost,
        Action<ILoggingBuilder>? logging = null,
        Action<IConfigurationBuilder>? configuration = null) =>
        new HostBuilder()
            .ConfigureAppConfiguration(c => configuration?.Invoke(c))
            .ConfigureLogging(l =>
            {
                l.SetMinimumLevel(LogLevel.Warning);
                logging?.Invoke(l);
            })
            .ConfigureWebHost(web =>
            {
                web.Configure(_ => { });
                configureWebHost(web);
            })
            .Build();

    /// <summary>Builds and starts the host; a host that fails to start is disposed.</summary>
    public static async Task<IHost> StartAsync(
        Action<IWebHostBuilder> configureWebHost,
        Action<ILoggingBuilder>? logging = null,
        Action<IConfigurationBuilder>? configuration = null)
    {
        var host = Build(configureWebHost, logging, configuration);
        try
        {
            await host.StartAsync().WaitAsync(StartBound);
        }
        catch
        {
            host.Dispose();
            throw;
        }

        return host;
    }

    /// <summary>Stops the host, giving connections <paramref name="drain"/> to finish, then disposes it.</summary>
    public static async Task StopAndDisposeAsync(IHost host, TimeSpan drain)
    {
        try
        {
            using var cts = new CancellationTokenSource(drain);
            await host.StopAsync(cts.Token);
        }
        finally
        {
            host.Dispose();
        }
    }
}
