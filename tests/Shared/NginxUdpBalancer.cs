using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace KcpKestrel.Tests.Shared;

/// <summary>
/// nginx's stream UDP proxy (Debian's <c>nginx</c> and <c>libnginx-mod-stream</c>) run from the repository's recipe,
/// deploy/nginx/kcpkestrel-udp.conf, with only its addresses replaced: a free loopback port to listen on and the
/// given upstream list. It runs in the foreground with a prefix directory of its own, so no system nginx, /etc/nginx
/// or /run is involved. Disposing it stops it (SIGTERM, then a kill) and removes the prefix.
/// </summary>
internal sealed partial class NginxUdpBalancer : IAsyncDisposable
{
    public const string Binary = "/usr/sbin/nginx";
    public const string StreamModule = "/usr/lib/nginx/modules/ngx_stream_module.so";
    public const string InstallHint = "nginx with its stream module is not installed (" + Binary + ", " + StreamModule + "): apt-get install nginx libnginx-mod-stream (.ci/run does it).";

    private readonly Process _process;
    private readonly string _prefix;
    private readonly string _recipe;

    private NginxUdpBalancer(Process process, string prefix, string recipe, IPEndPoint endPoint, IReadOnlyList<IPEndPoint> upstreams)
    {
        _process = process;
        _prefix = prefix;
        _recipe = recipe;
        EndPoint = endPoint;
        Upstreams = upstreams;
    }

    /// <summary>The recipe the tests and benchmarks/scale-out/run.sh run.</summary>
    public static string RecipePath => RepositoryRoot.Combine("deploy", "nginx", "kcpkestrel-udp.conf");

    /// <summary>Where clients send: nginx's UDP listener on loopback.</summary>
    public IPEndPoint EndPoint { get; }

    /// <summary>The instances it balances over now.</summary>
    public IReadOnlyList<IPEndPoint> Upstreams { get; private set; }

    /// <summary>Everything nginx has logged (notice level and up): for failure messages.</summary>
    public string ErrorLog => File.Exists(LogPath) ? File.ReadAllText(LogPath) : "(no error log)";

    private string LogPath => Path.Combine(_prefix, "error.log");

    private string ConfPath => Path.Combine(_prefix, "nginx.conf");

    /// <summary>
    /// Starts it on a free loopback port balancing over <paramref name="upstreams"/>, and waits until its UDP socket is
    /// bound (datagrams wait in the socket until a worker reads them). nginx cannot take port 0, so a free port is
    /// picked by binding and releasing one; a collision with another process in between is retried on a fresh port.
    /// </summary>
    public static async Task<NginxUdpBalancer> StartAsync(IReadOnlyList<IPEndPoint> upstreams)
    {
        if (!File.Exists(Binary) || !File.Exists(StreamModule))
        {
            throw new InvalidOperationException(InstallHint);
        }

        var recipe = await File.ReadAllTextAsync(RecipePath);
        string? lastLog = null;
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var endPoint = new IPEndPoint(IPAddress.Loopback, UdpPortRange.FindFree(1));
            var prefix = Directory.CreateTempSubdirectory("kcpkestrel-nginx-").FullName;
            var started = Start(prefix, recipe, endPoint, upstreams);
            var balancer = new NginxUdpBalancer(started, prefix, recipe, endPoint, upstreams);
            try
            {
                await TestWaits.WaitUntilAsync(
                    () => started.HasExited || (UdpPortRange.IsBound(endPoint.Port) && WorkerStartedLine().IsMatch(balancer.ErrorLog)),
                    "nginx to bind its UDP port and start its workers");
                if (!started.HasExited)
                {
                    return balancer;
                }

                lastLog = balancer.ErrorLog;
            }
            catch (Exception e) when (e is not InvalidOperationException)
            {
                var log = balancer.ErrorLog;
                await balancer.DisposeAsync();
                throw new InvalidOperationException($"nginx did not start: {log}", e);
            }

            await balancer.DisposeAsync();
            if (!lastLog.Contains("Address already in use", StringComparison.Ordinal))
            {
                break;
            }
        }

        throw new InvalidOperationException($"nginx exited at start: {lastLog}");
    }

    /// <summary>
    /// The recipe with its listen address set to <paramref name="listen"/> and its upstream's <c>server</c> lines replaced
    /// by one line per <paramref name="upstreams"/> entry, each with the parameters of the recipe's first server line.
    /// </summary>
    public static string Render(string recipe, IPEndPoint listen, IEnumerable<IPEndPoint> upstreams)
    {
        var listens = ListenLine().Matches(recipe);
        var servers = UpstreamServerLine().Matches(recipe);
        if (listens.Count != 1 || servers.Count == 0)
        {
            throw new InvalidOperationException($"{RecipePath}: expected one 'listen PORT udp' line and upstream 'server ADDRESS:PORT ...;' lines, found {listens.Count} and {servers.Count}");
        }

        var first = servers[0];
        var indent = first.Groups["indent"].Value;
        var parameters = first.Groups["parameters"].Value;
        var lines = new StringBuilder();
        foreach (var upstream in upstreams)
        {
            lines.Append(indent).Append("server ").Append(upstream).Append(parameters).Append(";\n");
        }

        // Replace from the last match back, so earlier indexes stay valid.
        var text = new StringBuilder(recipe);
        for (var i = servers.Count - 1; i >= 0; i--)
        {
            text.Remove(servers[i].Index, servers[i].Length);
        }

        text.Insert(first.Index, lines.ToString());
        var rendered = text.ToString();
        return ListenLine().Replace(rendered, m => m.Groups["head"].Value + listen + m.Groups["tail"].Value);
    }

    /// <summary>
    /// Rewrites the upstream list and reloads (SIGHUP): nginx starts new workers with the new list and shuts the old
    /// ones down gracefully (bounded by the recipe's worker_shutdown_timeout). Completes once the old workers have
    /// exited, so only the new list is in force; fails with the log if nginx refused the new configuration.
    /// </summary>
    public async Task ReloadAsync(IReadOnlyList<IPEndPoint> upstreams)
    {
        var before = ErrorLog;
        var oldWorkers = WorkerStartedLine().Matches(before).Select(m => m.Groups["pid"].Value).ToHashSet();
        await File.WriteAllTextAsync(ConfPath, Render(_recipe, EndPoint, upstreams));
        Assert.True(Signals.Send(_process.Id, Signals.Hup), $"nginx is gone: {ErrorLog}");
        await TestWaits.WaitUntilAsync(
            () => ErrorLog[before.Length..] is var since
                && (since.Contains("[emerg]", StringComparison.Ordinal)
                    || WorkerExitedLine().Matches(since).Select(m => m.Groups["pid"].Value).ToHashSet().IsSupersetOf(oldWorkers)),
            "nginx's old workers to exit after a reload");
        Assert.False(ErrorLog[before.Length..].Contains("[emerg]", StringComparison.Ordinal), $"nginx refused the new configuration: {ErrorLog[before.Length..]}");
        Upstreams = upstreams;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                // SIGTERM, nginx's fast stop: a graceful one (SIGQUIT) waits out worker_shutdown_timeout (5 s in the
                // recipe) while UDP sessions are open, which is all of them at a test's end. A kill if even that hangs.
                Signals.Send(_process.Id, Signals.Term);
                try
                {
                    await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(5));
                }
                catch (TimeoutException)
                {
                    _process.Kill(entireProcessTree: true);
                    await _process.WaitForExitAsync().WaitAsync(TestWaits.Bound);
                }
            }

            // The workers are the master's children: make sure none outlives it (a kill of the master alone leaves them).
            await TestWaits.WaitUntilAsync(() => !UdpPortRange.IsBound(EndPoint.Port), "nginx's workers to exit");
        }
        finally
        {
            _process.Dispose();
            Directory.Delete(_prefix, recursive: true);
        }
    }

    private static Process Start(string prefix, string recipe, IPEndPoint endPoint, IReadOnlyList<IPEndPoint> upstreams)
    {
        var conf = Path.Combine(prefix, "nginx.conf");
        var log = Path.Combine(prefix, "error.log");
        File.WriteAllText(conf, Render(recipe, endPoint, upstreams));

        // -e: the error log from the first line on; -g: what the recipe leaves to the command line (a foreground master,
        // its pid file, notice level so worker starts and reloads show).
        var start = TestProcess.StartInfo(Binary, ["-p", prefix, "-c", conf, "-e", log, "-g", $"daemon off; pid {prefix}/nginx.pid; error_log {log} notice;"]);
        start.RedirectStandardInput = false;
        start.RedirectStandardOutput = false;
        start.RedirectStandardError = false;
        return Process.Start(start)!;
    }

    [GeneratedRegex(@"start worker process (?<pid>\d+)")]
    private static partial Regex WorkerStartedLine();

    [GeneratedRegex(@"worker process (?<pid>\d+) exited")]
    private static partial Regex WorkerExitedLine();

    [GeneratedRegex(@"(?<head>^\s*listen\s+)\S+(?<tail>\s+udp\b)", RegexOptions.Multiline)]
    private static partial Regex ListenLine();

    // Upstream servers have an address; the `server {` block does not.
    [GeneratedRegex(@"^(?<indent>[ \t]*)server\s+[^\s{;]+:\d+(?<parameters>[^;\n]*);[^\n]*\n", RegexOptions.Multiline)]
    private static partial Regex UpstreamServerLine();
}
