using System.CommandLine;
using KcpKestrel.Cli.Serve;
using Microsoft.AspNetCore.Connections;

namespace KcpKestrel.Cli.Commands;

/// <summary><c>kcpkestrel serve</c>: a Kestrel host with the same app on KCP and TCP.</summary>
internal static class ServeCommand
{
    /// <summary>The exit code when the KCP or TCP address is already in use.</summary>
    public const int AddressInUseExitCode = 1;

    public static Command Create(CliIo io)
    {
        var kcp = Flags.Endpoint("--kcp", "UDP address to serve KCP on (port 0 picks one)", required: true);
        var tcp = Flags.Endpoint("--tcp", "TCP address to serve the same app on (port 0 picks one)");
        var app = Flags.Choice("--app", "What each connection gets (default echo)", ServeHost.AppNames);
        var kcpFlags = new KcpFlags();
        var tcpFlags = new TcpFlags();
        var smuxFlags = new SmuxFlags();
        var command = new Command("serve", "Serve an app (echo, sink or http) over KCP and, optionally, TCP; prints 'listening kcp=... tcp=...' when ready and one JSON line of its KCP counters ({\"event\":\"stopped\",...}) as it stops.");
        command.Options.Add(kcp);
        command.Options.Add(tcp);
        command.Options.Add(app);
        kcpFlags.AddTo(command);
        smuxFlags.AddTo(command);
        tcpFlags.AddTo(command);
        command.SetAction(async (result, cancellationToken) =>
        {
            var options = kcpFlags.Build(result);
            smuxFlags.Apply(result, kcpFlags, options);
            var tcpOptions = tcpFlags.Build(result);
            ServeHost started;
            try
            {
                started = await ServeHost.StartAsync(result.GetValue(kcp), result.GetValue(tcp), result.GetValue(app) ?? "echo", options, tcpOptions, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is AddressInUseException || e.InnerException is AddressInUseException)
            {
                // A port another server holds (KCP or TCP): Kestrel's one-line message, not a stack trace.
                await io.Error.WriteLineAsync($"kcpkestrel: {e.Message}").ConfigureAwait(false);
                await io.Error.FlushAsync(CancellationToken.None).ConfigureAwait(false);
                return AddressInUseExitCode;
            }

            await using var host = started;
            await io.Out.WriteLineAsync(host.ReadyLine).ConfigureAwait(false);
            await io.Out.FlushAsync(cancellationToken).ConfigureAwait(false);
            if (host.TcpDescription is { } tcpDescription)
            {
                // stderr: stdout keeps its two lines (ready, stopped) for scripts.
                await io.Error.WriteLineAsync($"kcpkestrel: {tcpDescription}").ConfigureAwait(false);
                await io.Error.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // SIGINT/SIGTERM: stop gracefully below.
            }

            await host.StopAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);

            // One JSON line with the KCP listener's final counters, for scripts.
            await io.Out.WriteLineAsync(StopReport.Format(host.KcpCounters(), host.SmuxTotals())).ConfigureAwait(false);
            await io.Out.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            return 0;
        });
        return command;
    }
}
