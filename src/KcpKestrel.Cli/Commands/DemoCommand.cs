using System.CommandLine;
using System.Globalization;
using System.Net;
using KcpKestrel.Cli.Bench;
using KcpKestrel.Cli.Serve;
using KcpKestrel.Relay;
using KcpKestrel.Transport.Kcp;
using Spectre.Console;

namespace KcpKestrel.Cli.Commands;

/// <summary>
/// <c>kcpkestrel demo</c>: no setup, one process. A server (KCP with FEC 10/3 + aes, and TCP) on
/// loopback, a lossy relay in front of KCP, and the bench client driving both; prints a table.
/// </summary>
internal static class DemoCommand
{
    public const double RelayLoss = 0.03;
    public static readonly TimeSpan RelayDelay = TimeSpan.FromMilliseconds(5);
    public static readonly TimeSpan RelayJitter = TimeSpan.FromMilliseconds(2);

    public static Command Create(CliIo io)
    {
        var bytes = Flags.Bytes("--bytes", "Bytes each echo sends (default 4M)", 1, 1L << 32);
        var count = Flags.Int("--count", "Round trips of each ping-pong (default 200)", 1, 1_000_000);
        var command = new Command("demo", "Start a KCP+TCP server, a 3%-loss relay and a client in this process; echo with SHA-256 checks and ping-pong, then print the figures.");
        command.Options.Add(bytes);
        command.Options.Add(count);
        command.SetAction((result, cancellationToken) => RunAsync(io, result.GetValue(bytes) ?? 4L << 20, result.GetValue(count) ?? 200, cancellationToken));
        return command;
    }

    public static async Task<int> RunAsync(CliIo io, long bytes, int count, CancellationToken cancellationToken)
    {
        var kcp = new KcpOptions
        {
            Mode = KcpMode.Fast3,
            Crypt = "aes",
            Key = "kcpkestrel-demo",
            DataShards = 10,
            ParityShards = 3,
            IoLoopCount = 1,
        };
        await io.Out.WriteLineAsync("demo: starting a server (KCP: FEC 10/3 + aes, fast3; TCP) and a relay (3% loss, 5 ms +0-2 ms each way) on loopback").ConfigureAwait(false);
        await using var server = await ServeHost.StartAsync(new IPEndPoint(IPAddress.Loopback, 0), new IPEndPoint(IPAddress.Loopback, 0), "echo", kcp, TcpServeOptions.Default, cancellationToken).ConfigureAwait(false);
        await using var relay = new LossyUdpRelay(
            new IPEndPoint(IPAddress.Loopback, 0),
            server.KcpEndPoint!,
            new LinkImpairment { Loss = RelayLoss, Delay = RelayDelay, Jitter = RelayJitter, Seed = 42 });
        relay.Start();
        await io.Out.WriteLineAsync($"demo: {server.ReadyLine}, relay {relay.EndPoint} -> {server.KcpEndPoint}").ConfigureAwait(false);

        var quiet = io with { Out = TextWriter.Null, Interactive = false };
        var rows = new List<(string Test, string Path, BenchResult Result)>();
        await using (var direct = BenchDialer.Kcp(server.KcpEndPoint!, kcp))
        await using (var lossy = BenchDialer.Kcp(relay.EndPoint, kcp))
        await using (var tcp = BenchDialer.Tcp(server.TcpEndPoint!))
        {
            var steps = new (string Test, string Path, BenchDialer Dialer, string Workload)[]
            {
                ($"echo {Megabytes(bytes)}", "KCP direct", direct, "echo"),
                ($"echo {Megabytes(bytes)}", "KCP via 3% loss relay", lossy, "echo"),
                ($"echo {Megabytes(bytes)}", "TCP direct", tcp, "echo"),
                ($"ping-pong x{count}", "KCP direct", direct, "pingpong"),
                ($"ping-pong x{count}", "KCP via 3% loss relay", lossy, "pingpong"),
                ($"ping-pong x{count}", "TCP direct", tcp, "pingpong"),
            };
            foreach (var (test, path, dialer, workload) in steps)
            {
                await io.Out.WriteLineAsync($"demo: {test} over {path}...").ConfigureAwait(false);
                await io.Out.FlushAsync(cancellationToken).ConfigureAwait(false);
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(TimeSpan.FromSeconds(60));
                BenchResult outcome;
                try
                {
                    outcome = await BenchCommand.RunAsync(quiet, dialer, new BenchCommand.Settings(workload, bytes, 64, count, 1, 1, TimeSpan.Zero), timeout.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is OperationCanceledException or IOException or System.Net.Sockets.SocketException or TimeoutException or Polly.Timeout.TimeoutRejectedException)
                {
                    outcome = new BenchResult { Workload = workload, Ok = false, Errors = 1, Error = e.Message };
                }

                rows.Add((test, path, outcome));
            }
        }

        await WriteTableAsync(io, rows).ConfigureAwait(false);
        await io.Out.WriteLineAsync($"relay upstream   {relay.Upstream}").ConfigureAwait(false);
        await io.Out.WriteLineAsync($"relay downstream {relay.Downstream}").ConfigureAwait(false);
        var failed = rows.FindAll(r => !r.Result.Ok);
        foreach (var (test, path, outcome) in failed)
        {
            await io.Out.WriteLineAsync($"FAILED: {test} over {path}: {outcome.Error}").ConfigureAwait(false);
        }

        await io.Out.WriteLineAsync(failed.Count == 0 ? "demo: all checks passed (SHA-256 of every echo matched)" : "demo: FAILED").ConfigureAwait(false);
        await io.Out.FlushAsync(CancellationToken.None).ConfigureAwait(false);
        return failed.Count == 0 ? 0 : 1;
    }

    private static async Task WriteTableAsync(CliIo io, List<(string Test, string Path, BenchResult Result)> rows)
    {
        string[] headers = ["test", "path", "MB/s", "RTT p50 ms", "RTT p99 ms", "retransmits", "FEC recovered", "check"];
        var cells = new List<string[]>();
        foreach (var (test, path, r) in rows)
        {
            var isPing = r.Workload == "pingpong";
            cells.Add(
            [
                test,
                path,
                isPing || !r.Ok ? "-" : r.MegabytesPerSecond.ToString("F1", CultureInfo.InvariantCulture),
                isPing && r.Ok ? (r.RttP50Us / 1000).ToString("F2", CultureInfo.InvariantCulture) : "-",
                isPing && r.Ok ? (r.RttP99Us / 1000).ToString("F2", CultureInfo.InvariantCulture) : "-",
                r.Transport == "kcp" ? r.Figures.Retransmits.ToString(CultureInfo.InvariantCulture) : "-",
                r.Transport == "kcp" ? r.Figures.FecRecovered.ToString(CultureInfo.InvariantCulture) : "-",
                r.Ok ? (isPing ? "ok" : "sha256 ok") : "FAILED",
            ]);
        }

        if (io.Interactive)
        {
            var table = new Table().Border(TableBorder.Rounded);
            foreach (var header in headers)
            {
                table.AddColumn(header);
            }

            foreach (var row in cells)
            {
                table.AddRow(Array.ConvertAll(row, Markup.Escape));
            }

            AnsiConsole.Write(table);
            return;
        }

        var widths = new int[headers.Length];
        foreach (var row in cells.Prepend(headers))
        {
            for (var i = 0; i < row.Length; i++)
            {
                widths[i] = Math.Max(widths[i], row[i].Length);
            }
        }

        foreach (var row in cells.Prepend(headers))
        {
            var line = string.Join("  ", row.Select((c, i) => i < 2 ? c.PadRight(widths[i]) : c.PadLeft(widths[i])));
            await io.Out.WriteLineAsync(line.TrimEnd()).ConfigureAwait(false);
        }
    }

    private static string Megabytes(long bytes) => bytes % (1 << 20) == 0
        ? $"{bytes >> 20} MiB"
        : $"{bytes} B";
}
