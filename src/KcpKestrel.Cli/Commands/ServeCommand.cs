using System.CommandLine;
using KcpKestrel.Cli.Serve;

namespace KcpKestrel.Cli.Commands;

/// <summary><c>kcpkestrel serve</c>: a Kestrel host with the same app on KCP and TCP.</summary>
internal static class ServeCommand
{
    public static Command Create(CliIo io)
    {
        var kcp = Flags.Endpoint("--kcp", "UDP address to serve KCP on (port 0 picks one)", required: true);
        var tcp = Flags.Endpoint("--tcp", "TCP address to serve the same app on (port 0 picks one)");
        var app = Flags.Choice("--app", "What each connection gets (default echo)", ServeHost.AppNames);
        var kcpFlags = new KcpFlags();
        var command = new Command("serve", "Serve an app (echo, sink or http) over KCP and, optionally, TCP; prints 'listening kcp=... tcp=...' when ready.");
        command.Options.Add(kcp);
        command.Options.Add(tcp);
        command.Options.Add(app);
        kcpFlags.AddTo(command);
        command.SetAction(async (result, cancellationToken) =>
        {
            var options = kcpFlags.Build(result);
            await using var host = await ServeHost.StartAsync(result.GetValue(kcp), result.GetValue(tcp), result.GetValue(app) ?? "echo", options, cancellationToken).ConfigureAwait(false);
            await io.Out.WriteLineAsync(host.ReadyLine).ConfigureAwait(false);
            await io.Out.FlushAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // SIGINT/SIGTERM: stop gracefully below.
            }

            await host.StopAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            return 0;
        });
        return command;
    }
}
