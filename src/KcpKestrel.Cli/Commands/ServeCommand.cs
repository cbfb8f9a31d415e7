using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using KcpKestrel.Cli.Serve;
using KcpKestrel.Transport.UserTcp;
using Microsoft.AspNetCore.Connections;

namespace KcpKestrel.Cli.Commands;

/// <summary><c>kcpkestrel serve</c>: a Kestrel host with the same app on KCP and TCP.</summary>
internal static class ServeCommand
{
    /// <summary>The exit code when the KCP or TCP address is already in use.</summary>
    public const int AddressInUseExitCode = 1;

    /// <summary>How long Kestrel gives open connections to close once it stops (after any drain delay), before aborting them.</summary>
    public static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(5);

    public const string DrainDelayFlag = "--drain-delay";

    /// <summary>The largest <c>--drain-delay</c>: an hour (a balancer probing every few seconds needs far less).</summary>
    public const double MaxDrainDelaySeconds = 3600;

    public static Command Create(CliIo io)
    {
        var kcp = Flags.Endpoint("--kcp", "UDP address to serve KCP on (port 0 picks one); required unless --usertcp is given");
        var userTcp = UserTcpServeOptions.Flag();
        var tcp = Flags.Endpoint("--tcp", "TCP address to serve the same app on (port 0 picks one)");
        var app = Flags.Choice("--app", "What each connection gets (default echo)", ServeHost.AppNames);
        var instanceId = Flags.Name("--instance-id", "This instance's name in the ready line, the stop report and /healthz; default <hostname>-<pid>", 128);
        var health = Flags.Endpoint("--health", "TCP address of a plain-HTTP health endpoint, GET /healthz: 200 while ready, 503 once draining or the KCP listener is not accepting (port 0 picks one)");
        var drainDelay = Flags.Double(
            DrainDelayFlag,
            "On SIGTERM/SIGINT, seconds to keep serving with /healthz answering 503 before Kestrel stops (so probing balancers stop sending new clients); then open sessions are asked to close; default 0",
            0,
            MaxDrainDelaySeconds,
            $"seconds from 0 to {MaxDrainDelaySeconds}");
        drainDelay.HelpName = "SECONDS";
        var kcpFlags = new KcpFlags();
        var tcpFlags = new TcpFlags();
        var smuxFlags = new SmuxFlags();
        var command = new Command("serve", "Serve an app (echo, sink or http) over KCP and, optionally, TCP and user-space TCP; prints 'listening kcp=... [tcp=...] [usertcp=...] [health=...] instance=...' when ready and one JSON line of its KCP counters ({\"event\":\"stopped\",...}) as it stops.");
        command.Options.Add(kcp);
        command.Options.Add(tcp);
        command.Options.Add(userTcp);
        command.Options.Add(app);
        command.Options.Add(instanceId);
        command.Options.Add(health);
        command.Options.Add(drainDelay);
        kcpFlags.AddTo(command);
        smuxFlags.AddTo(command);
        tcpFlags.AddTo(command);
        command.SetAction(async (result, cancellationToken) =>
        {
            var options = kcpFlags.Build(result);
            smuxFlags.Apply(result, kcpFlags, options);
            var tcpOptions = tcpFlags.Build(result);
            var id = result.GetValue(instanceId) ?? DefaultInstanceId();
            var userTcpEndPoint = result.GetValue(userTcp);
            if (result.GetValue(kcp) is null && userTcpEndPoint is null)
            {
                throw new UsageException($"serve needs --kcp or {UserTcpServeOptions.FlagName} (or both).");
            }

            ServeHost started;
            try
            {
                started = await ServeHost.StartAsync(
                    result.GetValue(kcp),
                    result.GetValue(tcp),
                    result.GetValue(app) ?? "echo",
                    options,
                    tcpOptions,
                    id,
                    result.GetValue(health),
                    userTcpEndPoint,
                    cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (FindTunUnavailable(e) is { } tun)
            {
                // No root / CAP_NET_ADMIN, or no /dev/net/tun: one line and the usage exit code, not a stack trace.
                await io.Error.WriteLineAsync($"kcpkestrel: {UserTcpServeOptions.FlagName}: {tun.Message}").ConfigureAwait(false);
                await io.Error.FlushAsync(CancellationToken.None).ConfigureAwait(false);
                return CliApp.UsageExitCode;
            }
            catch (Exception e) when (e is AddressInUseException || e.InnerException is AddressInUseException)
            {
                // A port another server holds (KCP, TCP or health): Kestrel's one-line message, not a stack trace.
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

            await host.DrainAndStopAsync(TimeSpan.FromSeconds(result.GetValue(drainDelay) ?? 0), StopTimeout).ConfigureAwait(false);

            // One JSON line with the KCP listener's final counters, for scripts.
            await io.Out.WriteLineAsync(StopReport.Format(host.KcpCounters(), host.SmuxTotals(), host.InstanceId, host.UserTcpListeners)).ConfigureAwait(false);
            await io.Out.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            return 0;
        });
        return command;
    }

    /// <summary>
    /// What a signal's graceful stop may take beyond the usual: the drain delay serve was given (zero for any
    /// other command). The CLI's process-termination timeout grows by it, so the drain is not cut short.
    /// </summary>
    public static TimeSpan DrainDelay(ParseResult parse)
    {
        ArgumentNullException.ThrowIfNull(parse);
        foreach (var child in parse.CommandResult.Children)
        {
            if (child is OptionResult { Option.Name: DrainDelayFlag } option && option.GetValueOrDefault<double?>() is { } seconds)
            {
                return TimeSpan.FromSeconds(seconds);
            }
        }

        return TimeSpan.Zero;
    }

    private static TunUnavailableException? FindTunUnavailable(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
        {
            if (e is TunUnavailableException tun)
            {
                return tun;
            }
        }

        return null;
    }

    /// <summary><c>hostname-pid</c>: unique among the instances of one host, stable for the process's life.</summary>
    private static string DefaultInstanceId() =>
        string.Create(CultureInfo.InvariantCulture, $"{Environment.MachineName}-{Environment.ProcessId}");
}
