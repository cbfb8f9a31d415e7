using System.CommandLine;
using KcpKestrel.Cli.Commands;

namespace KcpKestrel.Cli;

/// <summary>The command line: parses, reports bad flags in one line (exit 2), runs the command.</summary>
internal static class CliApp
{
    public const int UsageExitCode = 2;

    public static RootCommand BuildRoot(CliIo io)
    {
        var root = new RootCommand("kcpkestrel: KCP (reliable UDP, kcp-go compatible) and TCP on Kestrel: serve, bench, relay, demo, multicast, tunnel (kcptun).");
        root.Subcommands.Add(ServeCommand.Create(io));
        root.Subcommands.Add(BenchCommand.Create(io));
        root.Subcommands.Add(RelayCommand.Create(io));
        root.Subcommands.Add(DemoCommand.Create(io));
        root.Subcommands.Add(MulticastCommand.Create(io));
        root.Subcommands.Add(TunnelCommand.Create(io));
        return root;
    }

    /// <param name="args">The arguments.</param>
    /// <param name="io">Where to write.</param>
    /// <param name="terminationTimeout">Non-null in the real process: SIGINT/SIGTERM cancel the command, which then has this long to stop.</param>
    /// <param name="cancellationToken">Stops the command (tests).</param>
    public static async Task<int> RunAsync(string[] args, CliIo io, TimeSpan? terminationTimeout, CancellationToken cancellationToken)
    {
        var root = BuildRoot(io);
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
            {
                await io.Error.WriteLineAsync($"kcpkestrel: {error.Message}").ConfigureAwait(false);
            }

            await io.Error.FlushAsync(cancellationToken).ConfigureAwait(false);
            return UsageExitCode;
        }

        try
        {
            return await parse.InvokeAsync(
                new InvocationConfiguration
                {
                    Output = io.Out,
                    Error = io.Error,
                    EnableDefaultExceptionHandler = false,
                    // serve --drain-delay keeps serving that long after the signal before it stops.
                    ProcessTerminationTimeout = terminationTimeout + ServeCommand.DrainDelay(parse),
                },
                cancellationToken).ConfigureAwait(false);
        }
        catch (UsageException e)
        {
            await io.Error.WriteLineAsync($"kcpkestrel: {e.Message}").ConfigureAwait(false);
            return UsageExitCode;
        }
    }
}
