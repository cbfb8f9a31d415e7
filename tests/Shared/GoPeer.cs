using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace KcpKestrel.Tests.Shared;

/// <summary>Finds the Go toolchain and Debian's kcp-go sources (golang-github-xtaci-kcp-dev) that the kcp-go peer builds on.</summary>
internal static class GoToolchain
{
    public const string GoPath = "/usr/share/gocode";
    public const string KcpGoSource = GoPath + "/src/github.com/xtaci/kcp-go";
    public const string InstallHint =
        "Install the kcp-go peer's toolchain first: apt-get install golang-go golang-github-xtaci-kcp-dev (.ci/run does this).";

    /// <summary>Build output and Go's build cache, kept between runs so a rebuild is quick.</summary>
    public static readonly string CacheDirectory = Path.Combine(Path.GetTempPath(), "kcpkestrel-go");

    public static string? FindGo()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, "go");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return File.Exists("/usr/lib/go/bin/go") ? "/usr/lib/go/bin/go" : null;
    }

    /// <summary>Runs go in GOPATH mode, as Debian's packaged libraries need (kcp-go imported without /v5); returns stdout.</summary>
    public static string Run(string workingDirectory, params string[] args)
    {
        var go = FindGo() ?? throw new InvalidOperationException(InstallHint);
        var start = TestProcess.StartInfo(go, args, workingDirectory);
        start.RedirectStandardInput = false;
        start.Environment["GO111MODULE"] = "off";
        start.Environment["GOPATH"] = GoPath;
        start.Environment["GOCACHE"] = Path.Combine(CacheDirectory, "cache");

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"go {string.Join(' ', args)} did not finish in 3 minutes");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"go {string.Join(' ', args)} failed ({process.ExitCode}): {stderr.Result}");
        }

        return stdout.Result;
    }
}

/// <summary>
/// The kcp-go reference peer (tests/GoPeer/main.go), built once per test process into
/// <see cref="GoToolchain.CacheDirectory"/>. Without Go the first use throws with <see cref="GoToolchain.InstallHint"/>.
/// </summary>
internal static class GoPeer
{
    private static readonly Lazy<string> s_binary = new(Build, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The built peer's path (builds it on first use).</summary>
    public static string Binary => s_binary.Value;

    /// <summary>Starts the peer with <paramref name="args"/> and every standard stream redirected.</summary>
    public static Process Start(IEnumerable<string> args)
    {
        return Process.Start(TestProcess.StartInfo(Binary, args))!;
    }

    /// <summary>Starts a kcp-go server; disposing it closes stdin, which ends the peer.</summary>
    public static async Task<Server> StartServerAsync(string app, IEnumerable<string> kcpFlags)
    {
        var process = Start(new[] { "-mode", "server", "-listen", "127.0.0.1:0", "-app", app }.Concat(kcpFlags));
        var line = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
        if (line is null || !line.StartsWith("listening ", StringComparison.Ordinal))
        {
            var error = await process.StandardError.ReadToEndAsync();
            process.Kill(true);
            process.Dispose();
            throw new InvalidOperationException($"kcp-go peer did not start: {line} {error}");
        }

        return new Server(process, IPEndPoint.Parse(line["listening ".Length..].Trim()));
    }

    /// <summary>Runs the kcp-go client to completion and returns its JSON result.</summary>
    public static async Task<PeerResult> RunClientAsync(IPEndPoint target, string workload, long bytes, IEnumerable<string> kcpFlags, TimeSpan timeout)
    {
        var start = TestProcess.StartInfo(Binary, new[] { "-mode", "client", "-target", target.ToString(), "-workload", workload, "-bytes", bytes.ToString(CultureInfo.InvariantCulture), "-timeout", $"{(int)timeout.TotalSeconds}s" }.Concat(kcpFlags));
        var (_, stdout, stderr) = await TestProcess.RunAsync(start, timeout + TimeSpan.FromSeconds(10));
        var last = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault()
            ?? throw new InvalidOperationException("kcp-go client printed nothing: " + stderr);
        return JsonSerializer.Deserialize<PeerResult>(last) ?? throw new InvalidOperationException("Bad JSON: " + last);
    }

    /// <summary>kcp-go's flags for a KCP configuration, as the peer program takes them.</summary>
    public static string[] Flags(string crypt, string key, int dataShards, int parityShards) =>
    [
        "-crypt", crypt, "-key", key,
        "-datashard", dataShards.ToString(CultureInfo.InvariantCulture),
        "-parityshard", parityShards.ToString(CultureInfo.InvariantCulture),
        "-mtu", "1350", "-sndwnd", "1024", "-rcvwnd", "1024", "-nodelay", "1", "-interval", "10", "-resend", "2", "-nc", "1",
    ];

    private static string Build()
    {
        Directory.CreateDirectory(GoToolchain.CacheDirectory);
        var output = Path.Combine(GoToolchain.CacheDirectory, $"gopeer-{Environment.ProcessId}");
        GoToolchain.Run(RepositoryRoot.Combine("tests", "GoPeer"), "build", "-o", output, ".");
        AppDomain.CurrentDomain.ProcessExit += (_, _) => File.Delete(output);
        return output;
    }

    /// <summary>A running kcp-go server.</summary>
    public sealed class Server(Process process, IPEndPoint endPoint) : IAsyncDisposable
    {
        public IPEndPoint EndPoint { get; } = endPoint;

        public async ValueTask DisposeAsync()
        {
            try
            {
                process.StandardInput.Close();
                await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(5));
            }
            catch (TimeoutException)
            {
                process.Kill(true);
            }
            finally
            {
                process.Dispose();
            }
        }
    }
}

/// <summary>The one JSON line the Go peer's client prints.</summary>
internal sealed record PeerResult(
    [property: JsonPropertyName("workload")] string Workload,
    [property: JsonPropertyName("bytes")] long Bytes,
    [property: JsonPropertyName("seconds")] double Seconds,
    [property: JsonPropertyName("mb_per_s")] double MegabytesPerSecond,
    [property: JsonPropertyName("ok")] bool Ok,
    [property: JsonPropertyName("errors")] int Errors,
    [property: JsonPropertyName("error")] string? Error);
