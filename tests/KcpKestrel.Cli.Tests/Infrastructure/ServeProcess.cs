using System.Net;

namespace KcpKestrel.Cli.Tests.Infrastructure;

/// <summary><c>kcpkestrel serve</c> running in this process until disposed (which is SIGINT's path: cancellation).</summary>
public sealed class ServeProcess : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop;
    private readonly Task<int> _run;

    private ServeProcess(CancellationTokenSource stop, Task<int> run, LineWriter output, LineWriter error, string readyLine)
    {
        _stop = stop;
        _run = run;
        Out = output;
        Error = error;
        ReadyLine = readyLine;
        Kcp = CliRunner.Endpoint(readyLine, "kcp");
        Tcp = readyLine.Contains(" tcp=", StringComparison.Ordinal) ? CliRunner.Endpoint(readyLine, "tcp") : null;
    }

    public LineWriter Out { get; }

    /// <summary>What serve wrote to stderr (its CliIo error writer; the host's console log goes elsewhere).</summary>
    public LineWriter Error { get; }

    public string ReadyLine { get; }

    public IPEndPoint Kcp { get; }

    public IPEndPoint? Tcp { get; }

    public static async Task<ServeProcess> StartAsync(params string[] args)
    {
        var output = new LineWriter();
        var error = new LineWriter();
        var stop = new CancellationTokenSource();
        var run = Task.Run(() => CliApp.RunAsync(["serve", .. args], new CliIo(output, error, null, false), null, stop.Token));
        var ready = output.WaitForLineAsync(l => l.StartsWith("listening", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        var first = await Task.WhenAny(ready, run);
        if (first == run)
        {
            throw new InvalidOperationException($"serve exited with {await run}: {error.Text}");
        }

        return new ServeProcess(stop, run, output, error, await ready);
    }

    /// <summary>Stops it as SIGINT would and returns its exit code.</summary>
    public async Task<int> StopAsync()
    {
        await _stop.CancelAsync();
        return await _run.WaitAsync(TimeSpan.FromSeconds(30));
    }

    public async ValueTask DisposeAsync()
    {
        if (!_run.IsCompleted)
        {
            await StopAsync();
        }

        _stop.Dispose();
    }
}
