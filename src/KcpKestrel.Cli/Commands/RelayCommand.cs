using System.CommandLine;
using KcpKestrel.Relay;

namespace KcpKestrel.Cli.Commands;

/// <summary><c>kcpkestrel relay</c>: a lossy UDP relay in front of a KCP server.</summary>
internal static class RelayCommand
{
    public static Command Create(CliIo io)
    {
        var listen = Flags.Endpoint("--listen", "UDP address clients send to", required: true);
        var target = Flags.Endpoint("--target", "UDP address of the server", required: true);
        var loss = Flags.Double("--loss", "Probability a datagram is dropped", 0, 1, "a probability from 0 to 1 (0.05 is 5%)");
        var delay = Flags.Double("--delay", "Fixed one-way delay in ms", 0, 10_000, "0 to 10000 ms");
        var jitter = Flags.Double("--jitter", "Uniform extra one-way delay in ms", 0, 10_000, "0 to 10000 ms");
        var reorder = Flags.Double("--reorder", "Probability a datagram is held back behind later ones", 0, 1, "a probability from 0 to 1");
        var dup = Flags.Double("--dup", "Probability a datagram is sent twice", 0, 1, "a probability from 0 to 1");
        var corrupt = Flags.Double("--corrupt", "Probability one bit of a datagram is flipped", 0, 1, "a probability from 0 to 1");
        var seed = Flags.Int("--seed", "Seed of the random source (default 1)", int.MinValue, int.MaxValue, "a whole number");
        var command = new Command("relay", "Relay UDP with loss, delay, jitter, reordering, duplication and corruption; prints its counters when stopped (SIGINT/SIGTERM or stdin closed).");
        foreach (var option in new Option[] { listen, target, loss, delay, jitter, reorder, dup, corrupt, seed })
        {
            command.Options.Add(option);
        }

        command.SetAction(async (result, cancellationToken) =>
        {
            var impairment = new LinkImpairment
            {
                Loss = result.GetValue(loss) ?? 0,
                Delay = TimeSpan.FromMilliseconds(result.GetValue(delay) ?? 0),
                Jitter = TimeSpan.FromMilliseconds(result.GetValue(jitter) ?? 0),
                Reorder = result.GetValue(reorder) ?? 0,
                Duplicate = result.GetValue(dup) ?? 0,
                Corrupt = result.GetValue(corrupt) ?? 0,
                Seed = result.GetValue(seed) ?? 1,
            };
            await using var relay = new LossyUdpRelay(result.GetValue(listen)!, result.GetValue(target)!, impairment);
            relay.Start();
            await io.Out.WriteLineAsync($"relaying {relay.EndPoint} -> {result.GetValue(target)}").ConfigureAwait(false);
            await io.Out.FlushAsync(cancellationToken).ConfigureAwait(false);
            await WaitForStopAsync(io.In, cancellationToken).ConfigureAwait(false);
            await io.Out.WriteLineAsync($"upstream {relay.Upstream}").ConfigureAwait(false);
            await io.Out.WriteLineAsync($"downstream {relay.Downstream}").ConfigureAwait(false);
            await io.Out.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            return 0;
        });
        return command;
    }

    /// <summary>Returns when cancelled (a signal) or when <paramref name="input"/> ends (the harness closed our stdin).</summary>
    private static async Task WaitForStopAsync(TextReader? input, CancellationToken cancellationToken)
    {
        var cancelled = Task.Delay(Timeout.Infinite, cancellationToken);
        var tasks = new List<Task> { cancelled };
        if (input is not null)
        {
            tasks.Add(Task.Run(() => DrainAsync(input, cancellationToken), CancellationToken.None));
        }

        try
        {
            await Task.WhenAny(tasks).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static async Task DrainAsync(TextReader input, CancellationToken cancellationToken)
    {
        try
        {
            while (await input.ReadLineAsync(cancellationToken).ConfigureAwait(false) is not null)
            {
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
