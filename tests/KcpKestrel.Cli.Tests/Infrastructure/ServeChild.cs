using System.Diagnostics;
using System.Net;
using System.Text.Json;

namespace KcpKestrel.Cli.Tests.Infrastructure;

/// <summary>
/// <c>kcpkestrel serve</c> as a real child process (the build's KcpKestrel.Cli.dll under this run's dotnet host), so a
/// test can stop it the ways an orchestrator does: SIGTERM (a drain) or SIGKILL (a crash). Disposing it kills it if
/// it still runs.
/// </summary>
public sealed class ServeChild : IAsyncDisposable
{
    private readonly Process _process;

    private ServeChild(Process process, LineWriter output, LineWriter error)
    {
        _process = process;
        Out = output;
        Error = error;
    }

    /// <summary>Its stdout: the ready line, then the stop JSON line.</summary>
    public LineWriter Out { get; }

    public LineWriter Error { get; }

    public IPEndPoint Kcp { get; private set; } = new(IPAddress.Loopback, 0);

    public string ReadyLine { get; private set; } = string.Empty;

    public bool HasExited => _process.HasExited;

    /// <summary>Starts <c>serve --kcp 127.0.0.1:0</c> with <paramref name="args"/> and waits for its ready line.</summary>
    public static async Task<ServeChild> StartAsync(params string[] args)
    {
        var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } path ? path : "dotnet";
        var start = TestProcess.StartInfo(host, [Path.Combine(AppContext.BaseDirectory, "KcpKestrel.Cli.dll"), "serve", "--kcp", "127.0.0.1:0", .. args]);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        var process = new Process { StartInfo = start };
        var child = new ServeChild(process, new LineWriter(), new LineWriter());
        process.OutputDataReceived += (_, e) => Append(child.Out, e.Data);
        process.ErrorDataReceived += (_, e) => Append(child.Error, e.Data);
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            var ready = child.Out.WaitForLineAsync(l => l.StartsWith("listening", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
            var exited = process.WaitForExitAsync();
            if (await Task.WhenAny(ready, exited) != ready)
            {
                throw new InvalidOperationException($"serve exited with {process.ExitCode}: {child.Error.Text}");
            }

            child.ReadyLine = await ready;
            child.Kcp = CliRunner.Endpoint(child.ReadyLine, "kcp");
            return child;
        }
        catch
        {
            await child.DisposeAsync();
            throw;
        }
    }

    /// <summary>Sends <paramref name="signal"/> (<see cref="Signals"/>) to it.</summary>
    public void Signal(int signal) => Assert.True(Signals.Send(_process.Id, signal), $"serve is gone: {Error.Text}");

    /// <summary>SIGTERM, then its stop JSON line (<c>{"event":"stopped",...}</c>) once it has exited with 0.</summary>
    public async Task<JsonElement> StopAsync()
    {
        if (!_process.HasExited)
        {
            Signal(Signals.Term);
        }

        return await StoppedAsync();
    }

    /// <summary>Waits for it to exit (after a signal sent earlier) and returns its stop JSON line.</summary>
    public async Task<JsonElement> StoppedAsync()
    {
        var line = await Out.WaitForLineAsync(l => l.StartsWith("{\"event\":\"stopped\"", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
        await _process.WaitForExitAsync().WaitAsync(TestWaits.Bound);
        Assert.True(_process.ExitCode == 0, $"serve exited with {_process.ExitCode}: {Error.Text}");
        using var document = JsonDocument.Parse(line);
        return document.RootElement.Clone();
    }

    /// <summary>SIGKILL: a crash, no stop line; completes once it is gone.</summary>
    public async Task KillAsync()
    {
        Signal(Signals.Kill);
        await _process.WaitForExitAsync().WaitAsync(TestWaits.Bound);
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

    private static void Append(LineWriter writer, string? line)
    {
        if (line is not null)
        {
            writer.WriteLine(line);
        }
    }
}
