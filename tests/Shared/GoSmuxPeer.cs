using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace KcpKestrel.Tests.Shared;

/// <summary>
/// The xtaci/smux reference peer (tests/GoSmuxPeer/main.go on Debian's golang-github-xtaci-smux-dev), built once per
/// test process. Without Go or smux the first use throws.
/// </summary>
internal static class GoSmuxPeer
{
    private static readonly Lazy<string> s_binary = new(Build, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Starts the echo server (over TCP unless <paramref name="transportFlags"/> say otherwise); disposing it closes the process's stdin, which ends it.</summary>
    public static async Task<GoPeer.Server> StartServerAsync(int version, IEnumerable<string>? transportFlags = null)
    {
        string[] args = ["-mode", "server", "-listen", "127.0.0.1:0", "-version", version.ToString(System.Globalization.CultureInfo.InvariantCulture)];
        var process = Process.Start(TestProcess.StartInfo(s_binary.Value, args.Concat(transportFlags ?? [])))!;
        var line = await process.StandardOutput.ReadLineAsync().WaitAsync(TestWaits.Bound);
        if (line is null || !line.StartsWith("listening ", StringComparison.Ordinal))
        {
            process.Kill(true);
            throw new InvalidOperationException($"smux peer did not start: {line} {await process.StandardError.ReadToEndAsync()}");
        }

        return new GoPeer.Server(process, IPEndPoint.Parse(line["listening ".Length..].Trim()));
    }

    /// <summary>Runs the checking client to completion against <paramref name="target"/> (over TCP unless <paramref name="transportFlags"/> say otherwise).</summary>
    public static async Task<Result> RunClientAsync(IPEndPoint target, int version, int streams, int bytes, IEnumerable<string>? transportFlags = null)
    {
        string[] args = ["-mode", "client", "-target", target.ToString(), "-version", $"{version}", "-streams", $"{streams}", "-bytes", $"{bytes}"];
        var start = TestProcess.StartInfo(s_binary.Value, args.Concat(transportFlags ?? []));
        var (_, stdout, stderr) = await TestProcess.RunAsync(start, TimeSpan.FromSeconds(90));
        var last = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault()
            ?? throw new InvalidOperationException("smux client printed nothing: " + stderr);
        return JsonSerializer.Deserialize<Result>(last) ?? throw new InvalidOperationException("Bad JSON: " + last);
    }

    /// <summary>The flags that put the peer on kcp-go as kcptun runs it: AES with <paramref name="key"/>, FEC, and snappy when <paramref name="compress"/>.</summary>
    public static string[] KcpFlags(string key, int dataShards, int parityShards, bool compress) =>
    [
        "-transport", "kcp", "-crypt", "aes", "-key", key,
        "-datashard", $"{dataShards}", "-parityshard", $"{parityShards}",
        .. compress ? new[] { "-comp" } : [],
    ];

    private static string Build()
    {
        Directory.CreateDirectory(GoToolchain.CacheDirectory);
        var output = Path.Combine(GoToolchain.CacheDirectory, $"gosmuxpeer-{Environment.ProcessId}");
        GoToolchain.Run(RepositoryRoot.Combine("tests", "GoSmuxPeer"), "build", "-o", output, ".");
        AppDomain.CurrentDomain.ProcessExit += (_, _) => File.Delete(output);
        return output;
    }

    /// <summary>The client's one JSON line.</summary>
    internal sealed record Result(
        [property: JsonPropertyName("streams")] int Streams,
        [property: JsonPropertyName("bytes")] long Bytes,
        [property: JsonPropertyName("ok")] bool Ok,
        [property: JsonPropertyName("errors")] int Errors,
        [property: JsonPropertyName("error")] string? Error);
}
