using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using KcpKestrel.Cli.Tests.Infrastructure;

namespace KcpKestrel.Cli.Tests.UserTcp;

/// <summary>
/// <c>ip netns exec NS dotnet KcpKestrel.Cli.dll serve --usertcp tun=ut0,address=10.77.0.1/24,port=8080 ...</c>: the
/// user-space stack on a TUN device of its own inside the test's namespace, where the kernel's side of the device is
/// 10.77.0.2 and kernel clients reach the stack at <see cref="EndPoint"/>. Stopped with SIGTERM (its stop JSON then
/// carries the stack's counters); disposing kills it if it still runs.
/// </summary>
internal sealed class UserTcpServe : IAsyncDisposable
{
    public const string Address = "10.77.0.1";
    public const string PeerAddress = "10.77.0.2";
    public const int Port = 8080;

    private readonly Process _process;

    private UserTcpServe(Process process)
    {
        _process = process;
    }

    public static IPEndPoint EndPoint { get; } = new(IPAddress.Parse(Address), Port);

    public LineWriter Out { get; } = new();

    public LineWriter Error { get; } = new();

    public string ReadyLine { get; private set; } = string.Empty;

    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>
    /// Starts serve in <paramref name="ns"/> (its KCP endpoint on the namespace's own loopback, unused) with <c>--app <paramref name="app"/></c>, the spec extended by
    /// <paramref name="specExtra"/> (e.g. <c>loss=0.02,seed=7</c>), and waits for its ready line.
    /// </summary>
    public static async Task<UserTcpServe> StartAsync(NetNamespace ns, string app, string? specExtra = null, params string[] args)
    {
        var spec = $"tun=ut0,address={Address}/24,port={Port}" + (specExtra is null ? string.Empty : "," + specExtra);
        var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } path ? path : "dotnet";
        var start = ns.ExecStartInfo([host, Path.Combine(AppContext.BaseDirectory, "KcpKestrel.Cli.dll"), "serve", "--kcp", "127.0.0.1:0", "--usertcp", spec, "--app", app, .. args]);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        var process = new Process { StartInfo = start };
        var serve = new UserTcpServe(process);
        process.OutputDataReceived += (_, e) => Append(serve.Out, e.Data);
        process.ErrorDataReceived += (_, e) => Append(serve.Error, e.Data);
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            var ready = serve.Out.WaitForLineAsync(l => l.StartsWith("listening", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
            var exited = process.WaitForExitAsync();
            if (await Task.WhenAny(ready, exited) != ready)
            {
                throw new InvalidOperationException($"serve --usertcp {spec} exited with {process.ExitCode}: {serve.Error.Text} {serve.Out.Text}");
            }

            serve.ReadyLine = await ready;
            Assert.Contains($"usertcp={Address}:{Port}", serve.ReadyLine, StringComparison.Ordinal);
            return serve;
        }
        catch
        {
            await serve.DisposeAsync();
            throw;
        }
    }

    /// <summary>SIGTERM, then the <c>"usertcp"</c> object of its stop JSON line once it has exited with 0.</summary>
    public async Task<JsonElement> StopAsync()
    {
        if (!_process.HasExited)
        {
            Assert.True(Signals.Send(_process.Id, Signals.Term), $"serve is gone: {Error.Text}");
        }

        var line = await Out.WaitForLineAsync(l => l.StartsWith("{\"event\":\"stopped\"", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
        await _process.WaitForExitAsync().WaitAsync(TestWaits.Bound);
        Assert.True(_process.ExitCode == 0, $"serve exited with {_process.ExitCode}: {Error.Text}");
        using var document = JsonDocument.Parse(line);
        Assert.True(document.RootElement.TryGetProperty("usertcp", out var usertcp), $"no \"usertcp\" in the stop JSON: {line}");
        return usertcp.Clone();
    }

    /// <summary>
    /// The sum of every number named <paramref name="name"/> (case and underscores ignored) anywhere under
    /// <paramref name="report"/>: the stop JSON nests counters by layer and loop, and a test wants the total.
    /// </summary>
    public static long Counter(JsonElement report, string name)
    {
        long total = 0;
        var found = false;
        Sum(report, name, ref total, ref found);
        Assert.True(found, $"no counter \"{name}\" in {report}");
        return total;
    }

    /// <summary>The serve process's resident set in bytes (from /proc), for leak checks.</summary>
    public long ResidentBytes()
    {
        foreach (var line in File.ReadLines($"/proc/{_process.Id}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
            }
        }

        return 0;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }

            await _process.WaitForExitAsync().WaitAsync(TestWaits.Bound);
        }
        finally
        {
            _process.Dispose();
        }
    }

    private static void Sum(JsonElement element, string name, ref long total, ref bool found)
    {
        if (element.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in element.EnumerateObject())
            {
                if (property.Value.ValueKind == JsonValueKind.Number && SameName(property.Name, name))
                {
                    total += property.Value.GetInt64();
                    found = true;
                }
                else
                {
                    Sum(property.Value, name, ref total, ref found);
                }
            }
        }
        else if (element.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in element.EnumerateArray())
            {
                Sum(item, name, ref total, ref found);
            }
        }
    }

    /// <summary>bad_tcp_checksum, badTcpChecksum and BadTcpChecksum are one name.</summary>
    private static bool SameName(string a, string b) =>
        string.Equals(a.Replace("_", string.Empty, StringComparison.Ordinal), b.Replace("_", string.Empty, StringComparison.Ordinal), StringComparison.OrdinalIgnoreCase);

    private static void Append(LineWriter writer, string? line)
    {
        if (line is not null)
        {
            writer.WriteLine(line);
        }
    }
}
