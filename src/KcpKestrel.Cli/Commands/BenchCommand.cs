using System.CommandLine;
using System.Diagnostics;
using KcpKestrel.Cli.Bench;
using KcpKestrel.Transport.Kcp;

namespace KcpKestrel.Cli.Commands;

/// <summary><c>kcpkestrel bench</c>: a client workload against a serve (or a kcp-go peer); the last line is JSON.</summary>
internal static class BenchCommand
{
    public static readonly string[] WorkloadNames = ["bulk", "echo", "pingpong", "sessions", "http", "grpc", "udpblast"];

    public static Command Create(CliIo io)
    {
        var kcp = Flags.Endpoint("--kcp", "KCP server to dial");
        var tcp = Flags.Endpoint("--tcp", "TCP server to dial");
        var workload = Flags.Choice("--workload", "bulk: --bytes to a sink; echo: --bytes to an echo server, SHA-256 checked; pingpong: --count round trips of --size bytes; sessions: --sessions sessions each ping-ponging at --rate for --duration; http: --count GETs of serve --app http's /plaintext through HttpClient at --concurrency; grpc: --count unary calls of serve --app grpc's echo with --size bytes through a GrpcChannel at --concurrency; udpblast: raw UDP on loopback, the ceiling", WorkloadNames);
        workload.Required = true;
        var bytes = Flags.Bytes("--bytes", "Bytes to send for bulk and echo (default 16M)", 1, 1L << 40);
        var size = Flags.Int("--size", "Message size for pingpong, sessions and grpc (default 64)", 4, 1 << 20, "4 to 1048576 bytes");
        var count = Flags.Int("--count", "Round trips for pingpong, requests for http and grpc (default 1000)", 1, 100_000_000);
        var concurrency = Flags.Int("--concurrency", "Concurrent requests for http and grpc, and the most HTTP connections for http (default 16)", 1, 10_000);
        var connectionClose = new Option<bool>("--connection-close") { Description = "http: every request asks for Connection: close, so each opens a connection of its own (a KCP session, or with --smux a stream) and pays its dial" };
        var streams = Flags.Int("--streams", "bulk and echo: split --bytes over this many connections at once (with --smux, streams on the pooled sessions; default 1)", 1, 10_000);
        var sessions = Flags.Int("--sessions", "Concurrent sessions (default 100)", 1, 100_000);
        var rate = Flags.Double("--rate", "Messages per second per session (default 10)", 0.01, 100_000, "0.01 to 100000 messages per second");
        var duration = Flags.Double("--duration", "Seconds each session runs, or udpblast's length (default 10)", 0.1, 86_400, "0.1 to 86400 seconds");
        var timeout = Flags.Double("--timeout", "Give up after this many seconds (default 120)", 1, 86_400, "1 to 86400 seconds");
        var kcpFlags = new KcpFlags(listener: false);
        var smuxFlags = new SmuxFlags(client: true);
        var command = new Command("bench", "Run a client workload over KCP or TCP; the last line of output is one JSON object.");
        foreach (var option in new Option[] { kcp, tcp, workload, bytes, size, count, concurrency, connectionClose, streams, sessions, rate, duration, timeout })
        {
            command.Options.Add(option);
        }

        kcpFlags.AddTo(command);
        smuxFlags.AddTo(command);
        command.SetAction(async (result, cancellationToken) =>
        {
            var name = result.GetValue(workload)!;
            var kcpTarget = result.GetValue(kcp);
            var tcpTarget = result.GetValue(tcp);
            var options = kcpFlags.Build(result);
            smuxFlags.Apply(result, kcpFlags, options);
            var smux = options.Multiplexing == KcpMultiplexing.Smux;
            kcpFlags.Validate(options);
            if (smux && kcpTarget is null)
            {
                throw new UsageException("--smux applies only with --kcp.");
            }
            if (result.GetValue(streams) is > 1 && name is not ("bulk" or "echo"))
            {
                throw new UsageException("--streams applies only to --workload bulk and echo.");
            }

            if (name != "udpblast" && (kcpTarget is null) == (tcpTarget is null))
            {
                throw new UsageException("bench needs exactly one of --kcp HOST:PORT or --tcp HOST:PORT.");
            }

            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(TimeSpan.FromSeconds(result.GetValue(timeout) ?? 120));
            var settings = new Settings(
                name,
                result.GetValue(bytes) ?? 16L << 20,
                result.GetValue(size) ?? 64,
                result.GetValue(count) ?? 1000,
                result.GetValue(sessions) ?? 100,
                result.GetValue(rate) ?? 10,
                TimeSpan.FromSeconds(result.GetValue(duration) ?? 10))
            {
                Concurrency = result.GetValue(concurrency) ?? 16,
                ConnectionClose = result.GetValue(connectionClose),
                Streams = result.GetValue(streams) ?? 1,
            };
            BenchResult outcome;
            try
            {
                if (name == "udpblast")
                {
                    var progress = new BenchProgress("udpblast", (long)settings.Duration.TotalSeconds, "s");
                    outcome = await progress.RunAsync(io, () => UdpBlast.RunAsync(settings.Duration, deadline.Token)).ConfigureAwait(false);
                }
                else
                {
                    await using var dialer = kcpTarget is not null
                        ? BenchDialer.Kcp(kcpTarget, options, name == "sessions" ? 2 : 1, client => smuxFlags.ApplyPool(result, smux, client))
                        : BenchDialer.Tcp(tcpTarget!);
                    outcome = await RunAsync(io, dialer, settings, deadline.Token).ConfigureAwait(false);
                    outcome = outcome with { Smux = smux, KernelDrops = dialer.KernelDrops };
                }
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or System.Net.Sockets.SocketException or TimeoutException or Polly.Timeout.TimeoutRejectedException)
            {
                var why = e is OperationCanceledException && !cancellationToken.IsCancellationRequested ? "timed out (--timeout)" : e.Message;
                outcome = new BenchResult { Workload = name, Transport = kcpTarget is null ? "tcp" : "kcp", Smux = smux, Ok = false, Errors = 1, Error = why };
            }

            await io.Out.WriteLineAsync(outcome.ToJson()).ConfigureAwait(false);
            await io.Out.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            return outcome.Ok ? 0 : 1;
        });
        return command;
    }

    /// <summary>Runs one workload with a dialer (also used by demo).</summary>
    public static async Task<BenchResult> RunAsync(CliIo io, BenchDialer dialer, Settings settings, CancellationToken cancellationToken)
    {
        if (settings.Workload == "sessions")
        {
            var total = (long)(settings.Sessions * settings.Rate * settings.Duration.TotalSeconds);
            var progress = new BenchProgress($"sessions over {dialer.Transport}", total, "messages");
            var sessions = await progress.RunAsync(io, () => Workloads.SessionsAsync(dialer, settings.Sessions, settings.Rate, settings.Duration, settings.Size, progress, cancellationToken)).ConfigureAwait(false);
            return sessions with { KcpSessions = KcpSessions(dialer) };
        }

        if (settings.Workload == "http")
        {
            var progress = new BenchProgress($"http over {dialer.Transport}", settings.Count, "requests");
            var http = await progress.RunAsync(io, () => HttpWorkload.RunAsync(dialer, settings.Count, settings.Concurrency, settings.ConnectionClose, progress, cancellationToken)).ConfigureAwait(false);
            return http with { Transport = dialer.Transport, KcpSessions = KcpSessions(dialer) };
        }

        if (settings.Workload == "grpc")
        {
            var progress = new BenchProgress($"grpc over {dialer.Transport}", settings.Count, "calls");
            var grpc = await progress.RunAsync(io, () => GrpcWorkload.RunAsync(dialer, settings.Count, settings.Concurrency, settings.Size, progress, cancellationToken)).ConfigureAwait(false);
            return grpc with { Transport = dialer.Transport, KcpSessions = KcpSessions(dialer) };
        }

        if (settings.Streams > 1 && settings.Workload is "bulk" or "echo")
        {
            var progress = new BenchProgress($"{settings.Workload} over {settings.Streams} {dialer.Transport} connections", settings.Bytes, "bytes");
            var parallel = await progress.RunAsync(io, () => ParallelStreams.RunAsync(dialer, settings.Workload, settings.Bytes, settings.Streams, progress, cancellationToken)).ConfigureAwait(false);
            return parallel with { Transport = dialer.Transport, KcpSessions = KcpSessions(dialer) };
        }

        var dialStart = Stopwatch.GetTimestamp();
        await using var connection = await dialer.ConnectAsync(cancellationToken).ConfigureAwait(false);
        var connectMs = Stopwatch.GetElapsedTime(dialStart).TotalMilliseconds;
        BenchResult outcome;
        switch (settings.Workload)
        {
            case "bulk":
            {
                var progress = new BenchProgress($"bulk over {dialer.Transport}", settings.Bytes, "bytes");
                outcome = await progress.RunAsync(io, () => Workloads.BulkAsync(connection, settings.Bytes, progress, cancellationToken)).ConfigureAwait(false);
                break;
            }

            case "echo":
            {
                var progress = new BenchProgress($"echo over {dialer.Transport}", settings.Bytes, "bytes");
                outcome = await progress.RunAsync(io, () => Workloads.EchoAsync(connection, settings.Bytes, progress, cancellationToken)).ConfigureAwait(false);
                break;
            }

            default:
            {
                var progress = new BenchProgress($"pingpong over {dialer.Transport}", settings.Count, "round trips");
                outcome = await progress.RunAsync(io, () => Workloads.PingPongAsync(connection, settings.Size, settings.Count, progress, cancellationToken)).ConfigureAwait(false);
                break;
            }
        }

        return outcome with { Transport = dialer.Transport, ConnectMs = connectMs, KcpSessions = KcpSessions(dialer) };
    }

    private static int? KcpSessions(BenchDialer dialer) => dialer.IsKcp ? dialer.SessionsOpened : null;

    /// <summary>What to run.</summary>
    internal sealed record Settings(string Workload, long Bytes, int Size, int Count, int Sessions, double Rate, TimeSpan Duration)
    {
        /// <summary>Concurrent requests of the http and grpc workloads.</summary>
        public int Concurrency { get; init; } = 16;

        /// <summary>Whether each http request opens a connection of its own.</summary>
        public bool ConnectionClose { get; init; }

        /// <summary>Connections bulk and echo split their bytes over.</summary>
        public int Streams { get; init; } = 1;
    }

}
