using System.Diagnostics;
using System.Text.Json;

namespace KcpKestrel.Interop.Tests;

/// <summary>
/// The kcp-go reference peer (tests/GoPeer), built once per test run on Debian's kcp-go 5.6.1.
/// </summary>
public sealed class GoPeer
{
    private static readonly Lazy<string> s_binary = new(Build, LazyThreadSafetyMode.ExecutionAndPublication);

    public static string Binary => s_binary.Value;

    public static string RepositoryRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "KcpKestrel.sln")))
            {
                dir = dir.Parent;
            }

            return dir?.FullName ?? throw new InvalidOperationException("Cannot find the repository root (KcpKestrel.sln) above " + AppContext.BaseDirectory);
        }
    }

    private static string Build()
    {
        var output = Path.Combine(Path.GetTempPath(), $"kcpkestrel-gopeer-{Environment.ProcessId}");
        GoToolchain.Run(Path.Combine(RepositoryRoot, "tests", "GoPeer"), "build", "-o", output, ".");
        return output;
    }

    /// <summary>Starts a kcp-go server; disposing it closes stdin, which ends the peer.</summary>
    public static async Task<Server> StartServerAsync(string app, IEnumerable<string> kcpFlags)
    {
        var start = new ProcessStartInfo(Binary)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in new[] { "-mode", "server", "-listen", "127.0.0.1:0", "-app", app }.Concat(kcpFlags))
        {
            start.ArgumentList.Add(arg);
        }

        var process = Process.Start(start)!;
        var line = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
        if (line is null || !line.StartsWith("listening ", StringComparison.Ordinal))
        {
            var error = await process.StandardError.ReadToEndAsync();
            process.Kill(true);
            throw new InvalidOperationException($"kcp-go peer did not start: {line} {error}");
        }

        return new Server(process, System.Net.IPEndPoint.Parse(line["listening ".Length..].Trim()));
    }

    /// <summary>Runs the kcp-go client to completion and returns its JSON result.</summary>
    public static async Task<PeerResult> RunClientAsync(System.Net.IPEndPoint target, string workload, long bytes, IEnumerable<string> kcpFlags, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(Binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in new[] { "-mode", "client", "-target", target.ToString(), "-workload", workload, "-bytes", bytes.ToString(System.Globalization.CultureInfo.InvariantCulture), "-timeout", $"{(int)timeout.TotalSeconds}s" }.Concat(kcpFlags))
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout + TimeSpan.FromSeconds(10));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(true);
            throw new TimeoutException($"kcp-go client did not finish in {timeout}: {await stderr}");
        }

        var last = (await stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault()
            ?? throw new InvalidOperationException("kcp-go client printed nothing: " + await stderr);
        return JsonSerializer.Deserialize<PeerResult>(last) ?? throw new InvalidOperationException("Bad JSON: " + last);
    }

    /// <summary>kcp-go's flags for a KCP configuration, as the peer program takes them.</summary>
    public static string[] Flags(string crypt, string key, int dataShards, int parityShards) =>
    [
        "-crypt", crypt, "-key", key,
        "-datashard", dataShards.ToString(System.Globalization.CultureInfo.InvariantCulture),
        "-parityshard", parityShards.ToString(System.Globalization.CultureInfo.InvariantCulture),
        "-mtu", "1350", "-sndwnd", "1024", "-rcvwnd", "1024", "-nodelay", "1", "-interval", "10", "-resend", "2", "-nc", "1",
    ];

    public sealed class Server(Process process, System.Net.IPEndPoint endPoint) : IAsyncDisposable
    {
        public System.Net.IPEndPoint EndPoint { get; } = endPoint;

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
