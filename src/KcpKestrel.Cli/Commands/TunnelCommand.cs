using System.CommandLine;
using KcpKestrel.Cli.Tunnel;
using KcpKestrel.Transport.Kcp;
using Microsoft.AspNetCore.Connections;

namespace KcpKestrel.Cli.Commands;

/// <summary>
/// <c>kcpkestrel tunnel server|client</c>: drop-in for kcptun's two binaries (release 20210922), with its flag names,
/// spellings and per-side defaults, and its <c>-c config.json</c>.
/// </summary>
internal static class TunnelCommand
{
    public static Command Create(CliIo io)
    {
        var command = new Command("tunnel", "kcptun-compatible tunnel: 'tunnel server' (kcptun-server) and 'tunnel client' (kcptun-client) take kcptun's flags and defaults.");
        command.Subcommands.Add(Side(io, TunnelSide.Server, "server", "KCP (smux, snappy) in, TCP out: every stream a kcptun client opens is a TCP connection to --target."));
        command.Subcommands.Add(Side(io, TunnelSide.Client, "client", "TCP in, KCP out: every TCP connection to --localaddr is a smux stream to the kcptun server at --remoteaddr."));
        return command;
    }

    private static Command Side(CliIo io, TunnelSide side, string name, string description)
    {
        var flags = new KcptunFlags(side);
        var command = new Command(name, description + " Logs as kcptun on stderr (or --log); prints one JSON line ({\"event\":\"stopped\",...}) on stdout as it stops.");
        flags.AddTo(command);
        command.SetAction((result, cancellationToken) => RunAsync(io, side, flags.Read(result), cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(CliIo io, TunnelSide side, KcptunConfig config, CancellationToken cancellationToken)
    {
        var notes = new List<string>();
        var options = KcptunOptions.ToKcpOptions(config, notes);
        var clientOptions = side == TunnelSide.Client ? KcptunOptions.ToClientOptions(config, options) : null;
        foreach (var note in notes)
        {
            await io.Error.WriteLineAsync($"kcpkestrel: {note}").ConfigureAwait(false);
        }

        await using var logFile = config.Log.Length > 0 ? OpenLog(config.Log) : null;
        var log = new TunnelLog(logFile ?? io.Error, config.Quiet, TimeProvider.System);
        var target = side == TunnelSide.Server ? new TunnelTarget(config.Target) : null;

        TunnelHost started;
        try
        {
            started = side == TunnelSide.Server
                ? await TunnelHost.StartServerAsync(await TunnelAddress.ResolveKcpAsync("--listen", config.Listen, cancellationToken).ConfigureAwait(false), target!, options, log, cancellationToken).ConfigureAwait(false)
                : await TunnelHost.StartClientAsync(
                    await TunnelAddress.ResolveAsync("--localaddr", config.LocalAddr, cancellationToken).ConfigureAwait(false),
                    await TunnelAddress.ResolveKcpAsync("--remoteaddr", config.RemoteAddr, cancellationToken).ConfigureAwait(false),
                    clientOptions!,
                    log,
                    cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is AddressInUseException || e.InnerException is AddressInUseException)
        {
            await io.Error.WriteLineAsync($"kcpkestrel: {e.Message}").ConfigureAwait(false);
            return ServeCommand.AddressInUseExitCode;
        }

        await using var host = started;
        LogStartup(log, side, config, options, host);
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // SIGINT/SIGTERM: stop below.
        }

        // kcptun exits at once on a signal; a second lets streams that are ending finish, then the rest are aborted.
        await host.StopAsync(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
        await io.Out.WriteLineAsync(log.StopLine(side)).ConfigureAwait(false);
        await io.Out.FlushAsync(CancellationToken.None).ConfigureAwait(false);
        return 0;
    }

    /// <summary>kcptun's start-up lines, in its order; "listening on" gives the bound address (the port when 0 was asked for).</summary>
    private static void LogStartup(TunnelLog log, TunnelSide side, KcptunConfig config, KcpOptions options, TunnelHost host)
    {
        log.Line($"version: kcpkestrel {typeof(TunnelCommand).Assembly.GetName().Version}");
        log.Line($"smux version: {options.SmuxVersion}");
        log.Line($"listening on: {host.EndPoint}");
        log.Line(side == TunnelSide.Server ? $"target: {config.Target}" : $"remote address: {config.RemoteAddr}");
        log.Line($"encryption: {options.Crypt}");
        log.Line($"nodelay parameters: {KcptunOptions.NoDelayParameters(options)}");
        log.Line($"sndwnd: {options.SendWindow} rcvwnd: {options.ReceiveWindow}");
        log.Line($"compression: {(options.Compression != KcpCompression.None ? "true" : "false")}");
        log.Line($"mtu: {options.Mtu}");
        log.Line($"datashard: {options.DataShards} parityshard: {options.ParityShards}");
        log.Line($"sockbuf: {options.SocketBufferSize}");
        log.Line($"smuxbuf: {options.SmuxBuffer}");
        log.Line($"streambuf: {options.StreamBuffer}");
        log.Line($"keepalive: {(int)options.SmuxKeepAlive.TotalSeconds}");
        if (side == TunnelSide.Client)
        {
            log.Line($"conn: {config.Conn}");
            log.Line($"autoexpire: {config.AutoExpire}");
            log.Line($"scavengettl: {config.ScavengeTtl}");
        }

        log.Line($"quiet: {(config.Quiet ? "true" : "false")}");
        log.Line($"QPP: {(options.Qpp ? "true" : "false")}");
        if (options.Qpp)
        {
            log.Line($"QPP count: {options.QppCount}");
        }
    }

    /// <summary>kcptun's --log: appended to, created if missing.</summary>
    private static StreamWriter OpenLog(string path)
    {
        try
        {
            return new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"--log {path}: {e.Message}");
        }
    }
}
